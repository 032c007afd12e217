//! The files of DDEX DSR messages sent in several files.
//!
//! A message's summary records cover the lines of all its files, so a file
//! is imported only once every file of its message is cleaned; this table
//! says which file of which message each cleaned file is.

use diesel::prelude::*;

use crate::sales_files::SalesFile;
use crate::schema::{dsr_message_parts, sales_files};
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = dsr_message_parts)]
pub struct MessagePart {
    pub file_id: i64,
    pub organisation_id: i64,
    /// `HEAD` SenderPartyId, else SenderName: a MessageId is unique only
    /// among one sender's messages.
    pub sender: String,
    pub message_id: String,
    pub file_number: i32,
    pub number_of_files: i32,
}

impl MessagePart {
    /// Records which file of which message a file is, replacing what was
    /// recorded when it was cleaned before.
    pub fn save(conn: &mut DbConnection, part: &MessagePart) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::delete(dsr_message_parts::table.find(part.file_id)).execute(conn)?;
            diesel::insert_into(dsr_message_parts::table)
                .values(part)
                .execute(conn)?;
            Ok(())
        })
    }

    /// Forgets what a file was: cleaned again, it is not part of a message.
    pub fn forget(conn: &mut DbConnection, file_id: i64) -> Result<(), DbError> {
        diesel::delete(dsr_message_parts::table.find(file_id)).execute(conn)?;
        Ok(())
    }

    /// Which file of which message a file is, if it is one of several.
    pub fn of_file(conn: &mut DbConnection, file_id: i64) -> Result<Option<MessagePart>, DbError> {
        Ok(dsr_message_parts::table
            .find(file_id)
            .select(MessagePart::as_select())
            .first(conn)
            .optional()?)
    }

    /// The organisation's files of the message of `part`, by file number,
    /// the newest first for each number.
    pub fn files_of(
        conn: &mut DbConnection,
        organisation_id: i64,
        part: &MessagePart,
    ) -> Result<Vec<(MessagePart, SalesFile)>, DbError> {
        Ok(dsr_message_parts::table
            .inner_join(sales_files::table)
            .filter(sales_files::organisation_id.eq(organisation_id))
            .filter(dsr_message_parts::sender.eq(&part.sender))
            .filter(dsr_message_parts::message_id.eq(&part.message_id))
            .order((dsr_message_parts::file_number.asc(), sales_files::id.desc()))
            .select((MessagePart::as_select(), SalesFile::as_select()))
            .load(conn)?)
    }
}
