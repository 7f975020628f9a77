//! Authorization: XACML requests as Altinn builds them, and the built-in PDP that answers
//! them from the service's own data.

pub mod builtin;
pub mod mapping;
pub mod xacml;

pub use mapping::Action;
pub use xacml::{Decision, DecisionRequest, DecisionResponse, DecisionResult};
