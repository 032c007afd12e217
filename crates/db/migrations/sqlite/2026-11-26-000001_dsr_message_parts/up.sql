-- The files of DDEX DSR messages sent in several files: which file of which
-- message each cleaned file is, so that each is imported once the message
-- is whole (its summary records' revenue is shared across all its files).
CREATE TABLE dsr_message_parts (
    file_id BIGINT PRIMARY KEY REFERENCES sales_files (id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- HEAD SenderPartyId, else SenderName: a MessageId is unique per sender.
    sender TEXT NOT NULL,
    message_id TEXT NOT NULL,
    file_number INTEGER NOT NULL,
    number_of_files INTEGER NOT NULL
);
CREATE INDEX dsr_message_parts_message_idx ON dsr_message_parts (organisation_id, sender, message_id);
