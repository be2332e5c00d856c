//! Whether a peer's record may be merged: the checks [`super::Table::merge`] runs on each.

use ringwatch_proto::{DecodeError, Rev, encoded_len};

use super::{Definition, MAX_FUTURE, MAX_RECORD_BYTES};
use crate::clock::hlc_millis;
use crate::domain::names::{PLAIN_NAME_RULE, is_plain_name};

/// Whether a peer's revision may be taken at wall-clock time `wall_ms`; the error says why not.
pub fn check_rev(rev: &Rev, wall_ms: u64) -> Result<(), String> {
    if rev.hlc == u64::MAX {
        return Err("its revision would overflow the clock".into());
    }
    let limit_ms = crate::clock::latest_accepted_ms(wall_ms);
    let at_ms = hlc_millis(rev.hlc);
    if at_ms > limit_ms {
        return Err(format!(
            "its revision is {} s ahead of this node's clock (at most {} s accepted)",
            (at_ms - wall_ms) / 1000,
            MAX_FUTURE.as_secs()
        ));
    }
    if !rev.node.is_empty() && !is_plain_name(&rev.node) {
        return Err(format!("its revision's node is not {PLAIN_NAME_RULE}"));
    }
    Ok(())
}

/// Why a record from a peer cannot be merged, if it cannot.
fn refusal<D: Definition>(d: &D, wall_ms: u64) -> Result<(), String> {
    if !is_plain_name(d.id()) {
        return Err(format!("its id is not {PLAIN_NAME_RULE}"));
    }
    check_rev(d.rev(), wall_ms)?;
    let bytes = encoded_len(d);
    if bytes > MAX_RECORD_BYTES {
        return Err(format!(
            "it is {bytes} bytes encoded (at most {MAX_RECORD_BYTES} accepted)"
        ));
    }
    if d.is_deleted() {
        return Ok(());
    }
    d.validate()
}

/// A peer's record that may be merged, or its id (empty if unknown) and why not.
pub(super) fn admit<D: Definition>(
    d: Result<D, DecodeError>,
    wall_ms: u64,
) -> Result<D, (String, String)> {
    let d = d.map_err(|e| (String::new(), format!("it does not decode: {e}")))?;
    match refusal(&d, wall_ms) {
        Ok(()) => Ok(d),
        Err(why) => Err((d.id().to_owned(), why)),
    }
}
