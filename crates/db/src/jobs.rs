//! Module runs and their outcome.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::jobs;
use crate::{DbConnection, DbError};

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const TIMED_OUT: &str = "timed_out";

/// Statuses a run can still leave.
const OPEN: [&str; 2] = [QUEUED, RUNNING];

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRecord {
    pub id: String,
    pub module: String,
    pub action: String,
    pub organisation_id: i64,
    pub file_id: Option<i64>,
    pub status: String,
    /// JSON.
    pub params: String,
    /// JSON, once succeeded.
    pub output: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub task_ref: Option<String>,
    pub exit_code: Option<i32>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub deadline_at: NaiveDateTime,
    /// When what follows the run's end was carried out.
    pub continued_at: Option<NaiveDateTime>,
    /// No attempt to carry it out before this (one is under way, or the
    /// last failed for a passing reason).
    pub continue_after: Option<NaiveDateTime>,
    /// What the run works on when it is not a sales file
    /// (`catalog_import`), and its id.
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: &'static str,
    pub output: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl JobRecord {
    pub fn insert(conn: &mut DbConnection, job: &JobRecord) -> Result<(), DbError> {
        diesel::insert_into(jobs::table).values(job).execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, id: &str) -> Result<JobRecord, DbError> {
        Ok(jobs::table
            .find(id)
            .select(JobRecord::as_select())
            .first(conn)?)
    }

    /// Queued to running, with the task that runs it.
    pub fn started(
        conn: &mut DbConnection,
        id: &str,
        task_ref: &str,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(jobs::table.find(id).filter(jobs::status.eq(QUEUED)))
            .set((
                jobs::status.eq(RUNNING),
                jobs::task_ref.eq(Some(task_ref)),
                jobs::started_at.eq(Some(at)),
            ))
            .execute(conn)?;
        Ok(updated == 1)
    }

    /// Records the end of a run that has not ended yet; `false` when it had
    /// (a repeated or late event changes nothing).
    pub fn finish(
        conn: &mut DbConnection,
        id: &str,
        outcome: &Outcome,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(jobs::table.find(id).filter(jobs::status.eq_any(OPEN)))
            .set((
                jobs::status.eq(outcome.status),
                jobs::output.eq(outcome.output.as_deref()),
                jobs::error_code.eq(outcome.error_code.as_deref()),
                jobs::error_message.eq(outcome.error_message.as_deref()),
                jobs::finished_at.eq(Some(at)),
            ))
            .execute(conn)?;
        Ok(updated == 1)
    }

    pub fn record_exit(
        conn: &mut DbConnection,
        id: &str,
        exit_code: Option<i32>,
    ) -> Result<(), DbError> {
        diesel::update(jobs::table.find(id))
            .set(jobs::exit_code.eq(exit_code))
            .execute(conn)?;
        Ok(())
    }

    /// Ended runs whose continuation is due at `now`, oldest first.
    pub fn continuations_due(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<JobRecord>, DbError> {
        Ok(jobs::table
            .filter(jobs::continued_at.is_null())
            .filter(jobs::status.ne_all(OPEN))
            .filter(
                jobs::continue_after
                    .is_null()
                    .or(jobs::continue_after.le(now)),
            )
            .order(jobs::finished_at.asc())
            .limit(limit)
            .select(JobRecord::as_select())
            .load(conn)?)
    }

    /// Ended runs whose continuation is not carried out yet, due or not.
    pub fn continuations_pending(conn: &mut DbConnection) -> Result<i64, DbError> {
        Ok(jobs::table
            .filter(jobs::continued_at.is_null())
            .filter(jobs::status.ne_all(OPEN))
            .count()
            .get_result(conn)?)
    }

    /// Takes the continuation of an ended run for whoever calls, until
    /// `until`: `false` when it is carried out already, or taken by
    /// another (a gateway task, the reconciler) whose hold has not passed.
    pub fn claim_continuation(
        conn: &mut DbConnection,
        id: &str,
        now: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(
            jobs::table
                .find(id)
                .filter(jobs::continued_at.is_null())
                .filter(jobs::status.ne_all(OPEN))
                .filter(
                    jobs::continue_after
                        .is_null()
                        .or(jobs::continue_after.le(now)),
                ),
        )
        .set(jobs::continue_after.eq(Some(until)))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// The continuation was carried out.
    pub fn continued(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<(), DbError> {
        diesel::update(jobs::table.find(id))
            .set(jobs::continued_at.eq(Some(at)))
            .execute(conn)?;
        Ok(())
    }

    /// The continuation failed for a passing reason: try again after `at`.
    pub fn continue_later(
        conn: &mut DbConnection,
        id: &str,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        diesel::update(jobs::table.find(id).filter(jobs::continued_at.is_null()))
            .set(jobs::continue_after.eq(Some(at)))
            .execute(conn)?;
        Ok(())
    }

    /// Runs still running as local processes (`local:<pid>`).
    pub fn running_locally(conn: &mut DbConnection) -> Result<Vec<JobRecord>, DbError> {
        Ok(jobs::table
            .filter(jobs::status.eq(RUNNING))
            .filter(jobs::task_ref.like("local:%"))
            .select(JobRecord::as_select())
            .load(conn)?)
    }

    /// Open runs whose deadline passed before `now`.
    pub fn overdue(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<JobRecord>, DbError> {
        Ok(jobs::table
            .filter(jobs::status.eq_any(OPEN))
            .filter(jobs::deadline_at.lt(now))
            .select(JobRecord::as_select())
            .load(conn)?)
    }

    /// The output of the latest finished run of `module` on a file, if
    /// that run succeeded. A run that failed after it voids the output of
    /// earlier ones: a cleaning refused new bytes, and the cleaned copy
    /// before it is of bytes the file no longer has.
    pub fn latest_output(
        conn: &mut DbConnection,
        file_id: i64,
        module: &str,
    ) -> Result<Option<String>, DbError> {
        let latest = jobs::table
            .filter(jobs::file_id.eq(file_id))
            .filter(jobs::module.eq(module))
            .filter(jobs::status.eq_any([SUCCEEDED, FAILED, TIMED_OUT]))
            .order(jobs::finished_at.desc())
            .select((jobs::status, jobs::output))
            .first::<(String, Option<String>)>(conn)
            .optional()?;
        Ok(latest.and_then(|(status, output)| output.filter(|_| status == SUCCEEDED)))
    }
}
