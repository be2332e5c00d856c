//! Status pages as a replicated kind: stored in the shared `definitions` tree and sent as
//! [`ringwatch_proto::PeerMsg::Records`] of kind `status_page`, so neither the store nor the
//! wire needed a change (as for tokens).

use ringwatch_proto::StatusPage;

use super::table::{Definition, record_fields};

impl Definition for StatusPage {
    const KIND: &'static str = "status_page";

    record_fields!();

    fn bury(&mut self) {
        self.deleted = true;
    }

    /// The spec's validation, as `POST /api/status-pages` applies it (whether its monitors
    /// exist and its slug is free depend on the order writes arrive in, so they are not a
    /// peer's fault: see [`crate::pages`]).
    fn validate(&self) -> Result<(), String> {
        crate::domain::status_page::validate(self).map_err(|e| e.0)
    }
}

#[cfg(test)]
mod tests {
    use ringwatch_proto::{PageGroup, PeerMsg, StatusPage, decode, encode};

    use crate::clock::Hlc;
    use crate::state::Table;
    use crate::store::Store;

    fn page(id: &str, slug: &str) -> StatusPage {
        StatusPage {
            id: id.into(),
            slug: slug.into(),
            title: "Acme".into(),
            description: String::new(),
            groups: vec![PageGroup {
                name: "Web".into(),
                monitors: vec!["m-1".into()],
            }],
            public: true,
            show_details: false,
            announcement: None,
            created_ms: 1,
            rev: Default::default(),
            deleted: false,
        }
    }

    fn carried(msg: &PeerMsg) -> PeerMsg {
        decode(&encode(msg)).unwrap()
    }

    #[test]
    fn pages_travel_as_records_in_the_shared_tree_and_bad_ones_are_refused() {
        let hlc = Hlc::default();
        let store = Store::in_memory();
        let a = Table::<StatusPage>::load(store.clone(), "a").unwrap();
        let kept = a.put_one(page("p-1", "acme"), &hlc).unwrap();
        let bad = a.put_one(page("p-2", "Not A Slug"), &hlc).unwrap();
        let msg = Table::message(&[kept.clone(), bad]);
        assert!(matches!(&msg, PeerMsg::Records { kind, .. } if kind == "status_page"));

        let b = Table::<StatusPage>::load(Store::in_memory(), "b").unwrap();
        let merged = b.receive(carried(&msg), &hlc).unwrap();
        assert_eq!((merged.refused, merged.changed.len()), (1, 1));
        assert_eq!(*b.get_live("p-1").unwrap(), *kept);

        a.delete("p-1", &hlc).unwrap().unwrap();
        for frame in a.sync_messages(1 << 20) {
            b.receive(carried(&frame), &hlc).unwrap();
        }
        assert!(b.get_live("p-1").is_none(), "the delete came along");
        let reloaded = Table::<StatusPage>::load(store, "a").unwrap();
        assert_eq!(reloaded.all(), a.all(), "stored, tombstones included");
    }
}
