//! Monitors as a replicated kind. Stored in their own `monitors` tree and sent as
//! [`PeerMsg::Definitions`], as before the table existed, so older nodes and stores agree.

use ringwatch_proto::{DecodeError, Monitor, PeerMsg};

use super::table::{Definition, Stored, record_fields, records_of};
use crate::store::Tree;

impl Definition for Monitor {
    const KIND: &'static str = "monitor";
    const STORED: Stored = Stored::Tree(Tree::Monitors);

    record_fields!();

    fn bury(&mut self) {
        self.deleted = true;
        self.active = false;
    }

    /// The spec's validation, the one `POST /api/monitors` applies.
    fn validate(&self) -> Result<(), String> {
        crate::domain::spec::validate(self).map_err(|e| e.to_string())
    }

    fn to_message(batch: Vec<Self>) -> PeerMsg {
        PeerMsg::Definitions(batch)
    }

    fn from_message(msg: PeerMsg) -> Result<Vec<Result<Self, DecodeError>>, PeerMsg> {
        match msg {
            PeerMsg::Definitions(ms) => Ok(ms.into_iter().map(Ok).collect()),
            other => records_of(other),
        }
    }
}
