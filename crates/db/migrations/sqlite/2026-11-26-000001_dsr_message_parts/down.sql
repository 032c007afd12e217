DROP TABLE dsr_message_parts;
