//! A new replicated kind is one type plus its `Definition` impl, nothing else: this file
//! defines a tiny third kind (a `Widget`) and shows the generic table replicates it between
//! two nodes, keeps deletes as tombstones that older edits cannot undo, brings a new node up
//! to date with its full-sync messages, stores it, and refuses invalid copies from a peer.
//!
//! The "nodes" are tables exchanging exactly the messages the table produces, as the cluster
//! transport would carry them (encoded and decoded as peer frames).

use ringwatch::clock::Hlc;
use ringwatch::state::{Definition, Table};
use ringwatch::store::Store;
use ringwatch_proto::{PeerMsg, Rev, decode, encode};
use serde::{Deserialize, Serialize};

/// The third kind: a labelled widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Widget {
    id: String,
    label: String,
    rev: Rev,
    deleted: bool,
}

/// Stored like every definition (a record of its own layout since version 2).
impl ringwatch_proto::Record for Widget {}

impl Definition for Widget {
    const KIND: &'static str = "widget";

    fn id(&self) -> &str {
        &self.id
    }
    fn rev(&self) -> &Rev {
        &self.rev
    }
    fn set_rev(&mut self, rev: Rev) {
        self.rev = rev;
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
    fn bury(&mut self) {
        self.deleted = true;
    }
    fn validate(&self) -> Result<(), String> {
        if self.label.is_empty() {
            return Err("a widget needs a label".into());
        }
        Ok(())
    }
}

/// One node's widgets: its store, its clock, its table.
struct Node {
    store: Store,
    hlc: Hlc,
    widgets: Table<Widget>,
}

impl Node {
    fn new(name: &str) -> Self {
        let store = Store::in_memory();
        let widgets = Table::load(store.clone(), name).unwrap();
        Node {
            store,
            hlc: Hlc::default(),
            widgets,
        }
    }

    /// Takes a message from a peer as the inbox does: one frame, decoded, offered to the table.
    fn receive(&self, msg: &PeerMsg) -> ringwatch::state::Merged<Widget> {
        let frame: PeerMsg = decode(&encode(msg)).unwrap();
        self.widgets.receive(frame, &self.hlc).unwrap()
    }

    fn labels(&self) -> Vec<(String, String, bool)> {
        self.widgets
            .all()
            .iter()
            .map(|w| (w.id.clone(), w.label.clone(), w.deleted))
            .collect()
    }
}

fn widget(id: &str, label: &str) -> Widget {
    Widget {
        id: id.into(),
        label: label.into(),
        rev: Rev::default(),
        deleted: false,
    }
}

#[test]
fn a_kind_defined_here_replicates_between_nodes() {
    let (a, b) = (Node::new("a"), Node::new("b"));
    let made = a
        .widgets
        .put(vec![widget("w1", "one"), widget("w2", "two")], &a.hlc)
        .unwrap();
    let msg = Table::message(&made);
    assert!(matches!(&msg, PeerMsg::Records { kind, .. } if kind == "widget"));
    let merged = b.receive(&msg);
    assert_eq!((merged.changed.len(), merged.refused), (2, 0));
    assert_eq!(b.labels(), a.labels());
    // The same message again changes nothing.
    assert!(b.receive(&msg).changed.is_empty());
    // An edit on b goes back to a.
    let mut w1 = (*b.widgets.get("w1").unwrap()).clone();
    w1.label = "uno".into();
    let edited = b.widgets.put_one(w1, &b.hlc).unwrap();
    a.receive(&Table::message(&[edited]));
    assert_eq!(a.widgets.get("w1").unwrap().label, "uno");
    assert_eq!(b.labels(), a.labels());
}

#[test]
fn a_delete_wins_over_an_older_edit_and_stays() {
    let (a, b) = (Node::new("a"), Node::new("b"));
    let made = a.widgets.put_one(widget("w", "first"), &a.hlc).unwrap();
    b.receive(&Table::message(&[made]));
    // b edits, a deletes later; each hears of the other's change only afterwards.
    let mut edit = (*b.widgets.get("w").unwrap()).clone();
    edit.label = "second".into();
    let edit = b.widgets.put_one(edit, &b.hlc).unwrap();
    // a's clock is past b's edit (clocks move on; the HLC makes it certain here).
    a.hlc.observe(edit.rev.hlc);
    let tomb = a.widgets.delete("w", &a.hlc).unwrap().unwrap();
    assert!(tomb.rev > edit.rev);
    a.receive(&Table::message(std::slice::from_ref(&edit)));
    b.receive(&Table::message(std::slice::from_ref(&tomb)));
    for node in [&a, &b] {
        let w = node.widgets.get("w").unwrap();
        assert!(w.deleted && node.widgets.get_live("w").is_none());
        assert_eq!(w.rev, tomb.rev);
    }
    // The older edit, arriving again, cannot bring it back; nor can a seed.
    assert!(b.receive(&Table::message(&[edit])).changed.is_empty());
    assert!(
        b.widgets
            .seed(vec![widget("w", "seeded")])
            .unwrap()
            .is_empty()
    );
    assert!(b.widgets.get_live("w").is_none());
    // A second delete of a deleted widget does nothing.
    assert!(a.widgets.delete("w", &a.hlc).unwrap().is_none());
}

#[test]
fn a_new_node_receives_everything_in_the_full_sync() {
    let a = Node::new("a");
    let many: Vec<Widget> = (0..25).map(|i| widget(&format!("w{i:02}"), "x")).collect();
    a.widgets.put(many, &a.hlc).unwrap();
    a.widgets.delete("w03", &a.hlc).unwrap();
    a.widgets.seed(vec![widget("from-file", "seeded")]).unwrap();
    let fresh = Node::new("fresh");
    // Room for about ten widgets per message.
    let one = ringwatch_proto::encoded_len(&*a.widgets.get("w00").unwrap());
    let frames = a.widgets.sync_messages(10 * one);
    assert_eq!(frames.len(), 3);
    for frame in &frames {
        fresh.receive(frame);
    }
    assert_eq!(fresh.widgets.all(), a.widgets.all());
    // What it took is stored: a restart of the new node holds the same.
    let restarted: Table<Widget> = Table::load(fresh.store.clone(), "fresh").unwrap();
    assert_eq!(restarted.all(), a.widgets.all());
}

#[test]
fn invalid_or_undecodable_widgets_from_a_peer_are_refused() {
    let (a, b) = (Node::new("a"), Node::new("b"));
    let good = a.widgets.put_one(widget("good", "ok"), &a.hlc).unwrap();
    let bad = a.widgets.put_one(widget("bad", ""), &a.hlc).unwrap();
    let PeerMsg::Records { kind, mut records } = Table::message(&[good, bad]) else {
        panic!("a new kind travels as Records");
    };
    records.push(vec![ringwatch_proto::RECORD_VERSION, 0xff, 0xff]);
    let merged = b.receive(&PeerMsg::Records { kind, records });
    assert_eq!(merged.refused, 2);
    assert_eq!(merged.changed.len(), 1);
    assert_eq!(b.labels(), [("good".to_owned(), "ok".to_owned(), false)]);
}
