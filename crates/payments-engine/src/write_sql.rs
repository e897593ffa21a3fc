//! The SQL text of the webhook write path's lookups, and of the overview's fold that runs beside
//! it, exactly as the stores send it, for the query-plan tests (`tests/api/write_plans.rs`).
//! Not an API.

pub use crate::store::events::{stored_sql, CLAIM_SQL, EVENT_STATUS_SQL, FINISH_SQL, RECORD_SQL, TAKE_OVER_SQL};
pub use crate::store::history::{
    FIND_ORIGINAL_ROW_SQL, FIND_ORIGINAL_SQL, FIND_PAYMENT_SQL, FIND_REFUND_SQL, INSERT_SQL,
    INVOICE_WITHOUT_PAYMENT_SQL, ORIGINAL_SQL, REFUNDED_TOTAL_SQL, REFUND_BACKFILL_SQL,
};
pub use crate::store::rollups::{FOLD_DAYS_DELETE_SQL, FOLD_DAYS_MARK_SQL, FOLD_DAYS_SQL};
