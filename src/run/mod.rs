//! What a check sees of its run: the account it grades (clients,
//! parameters, notes, the redactor), the memo of answers shared between
//! checks, and the outcomes a check returns. The engine builds these and
//! runs the checks over them; nothing here knows which checks exist.

pub mod account;
mod aws_fault;
pub use labcheck_outcome::{memo, outcome};
