//! What candidates do themselves on the privacy pages: sign in by a link
//! sent to their address, then see, export and act on their data.

pub mod email;
pub mod export;
pub mod rights;
pub mod session;
mod zip;

use crate::store::audit::Actor;

/// Who the audit log names for what a candidate did on their pages.
pub fn candidate_actor() -> Actor {
    Actor {
        api_key_id: None,
        on_behalf_of: Some("candidate".to_owned()),
    }
}
