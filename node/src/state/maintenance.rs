//! Maintenance windows as a replicated kind. Stored in the shared `definitions` tree and sent
//! as [`ringwatch_proto::PeerMsg::Records`] of kind `maintenance`, as tokens are, so neither the
//! store nor the wire needed a change (a node of an older build drops the records as of an
//! unknown kind, and counts them).

use ringwatch_proto::Maintenance;

use super::table::{Definition, record_fields};
use crate::domain::maintenance::validate;

impl Definition for Maintenance {
    const KIND: &'static str = "maintenance";

    record_fields!();

    fn bury(&mut self) {
        self.deleted = true;
    }

    /// The rules of `POST /api/maintenance`: a plain title, a scope, a schedule that parses.
    fn validate(&self) -> Result<(), String> {
        let title = self.title.trim();
        if title.is_empty() || title != self.title {
            return Err("its title is empty or not trimmed".into());
        }
        validate(self)
    }
}

#[cfg(test)]
mod tests {
    use ringwatch_proto::{Maintenance, MaintenanceSchedule, PeerMsg, decode, encode};

    use crate::clock::Hlc;
    use crate::domain::maintenance::MaintenanceInput;
    use crate::state::Table;
    use crate::store::Store;

    fn made(id: &str, cron: &str) -> Maintenance {
        let mut m = MaintenanceInput {
            title: format!("window {id}"),
            monitors: "all".into(),
            cron: Some("0 3 * * SUN".into()),
            duration_secs: Some(3600),
            timezone: Some("Europe/Berlin".into()),
            ..Default::default()
        }
        .into_maintenance()
        .unwrap();
        m.id = id.into();
        if let MaintenanceSchedule::Recurring { cron: c, .. } = &mut m.schedule {
            *c = cron.into();
        }
        m
    }

    #[test]
    fn windows_travel_as_records_of_the_shared_tree_and_bad_ones_are_refused() {
        let hlc = Hlc::default();
        let store = Store::in_memory();
        let a = Table::<Maintenance>::load(store.clone(), "a").unwrap();
        let kept = a.put_one(made("w-1", "0 3 * * SUN"), &hlc).unwrap();
        let bad = a.put_one(made("w-2", "not a cron at all"), &hlc).unwrap();
        let msg = Table::message(&[kept.clone(), bad]);
        assert!(matches!(&msg, PeerMsg::Records { kind, .. } if kind == "maintenance"));
        let carried: PeerMsg = decode(&encode(&msg)).unwrap();
        let b = Table::<Maintenance>::load(Store::in_memory(), "b").unwrap();
        let merged = b.receive(carried, &hlc).unwrap();
        assert_eq!((merged.refused, merged.changed.len()), (1, 1));
        assert_eq!(*b.get_live("w-1").unwrap(), *kept);
        // Stored: a table loaded again from the same store has it.
        let again = Table::<Maintenance>::load(store, "a").unwrap();
        assert_eq!(again.live().len(), 2);
    }
}
