//! An AWS error as the outcome vocabulary sees it: a [`ServiceFault`] whose
//! hint, transience and refusal come from the error's classification
//! (`aws.rs`), so `?` turns an [`AwsError`] into a [`CheckError`].

use super::outcome::{CheckError, ServiceFault};
use crate::aws::AwsError;
use std::sync::Arc;

impl ServiceFault for AwsError {
    fn hint(&self) -> Option<String> {
        AwsError::hint(self)
    }

    fn is_transient(&self) -> bool {
        AwsError::is_transient(self)
    }

    fn is_denied(&self) -> bool {
        AwsError::is_denied(self)
    }
}

impl From<AwsError> for CheckError {
    fn from(e: AwsError) -> Self {
        CheckError::Service(Arc::new(e))
    }
}
