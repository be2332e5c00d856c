//! API tokens as a replicated kind. New with this kind: stored in the shared `definitions`
//! tree and sent as [`ringwatch_proto::PeerMsg::Records`] of kind `token`, so neither the
//! store nor the wire needed a change.

use ringwatch_proto::ApiToken;

use super::table::{Definition, record_fields};
use crate::domain::token::validate_name;

impl Definition for ApiToken {
    const KIND: &'static str = "token";

    record_fields!();

    fn bury(&mut self) {
        self.deleted = true;
    }

    /// What `POST /api/tokens` makes: an id of the secret's form (`t-` and 16 hex digits), a
    /// valid name and a hash. The scope is valid by construction (it decoded).
    fn validate(&self) -> Result<(), String> {
        let hex = self.id.strip_prefix("t-").unwrap_or_default();
        if hex.len() != 16 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("its id is not t- and 16 hex digits".into());
        }
        if self.hash == [0; 32] {
            return Err("it has no secret hash".into());
        }
        validate_name(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use ringwatch_proto::{ApiToken, PeerMsg, Scope, decode, encode};

    use crate::clock::Hlc;
    use crate::domain::token;
    use crate::state::Table;
    use crate::store::Store;

    fn made(name: &str) -> ApiToken {
        let (id, secret) = token::generate().unwrap();
        ApiToken {
            id,
            name: name.into(),
            scope: Scope::Write,
            hash: token::hash(secret.expose()),
            created_ms: 1,
            rev: Default::default(),
            deleted: false,
        }
    }

    /// A message as a peer would get it: encoded as a frame and decoded.
    fn carried(msg: &PeerMsg) -> PeerMsg {
        decode(&encode(msg)).unwrap()
    }

    #[test]
    fn tokens_travel_as_records_and_a_new_node_gets_revokes_in_the_full_sync() {
        let (a, hlc) = (
            Table::<ApiToken>::load(Store::in_memory(), "a").unwrap(),
            Hlc::default(),
        );
        let kept = a.put_one(made("kept"), &hlc).unwrap();
        let gone = a.put_one(made("gone"), &hlc).unwrap();
        let msg = Table::message(std::slice::from_ref(&kept));
        assert!(matches!(&msg, PeerMsg::Records { kind, .. } if kind == "token"));
        a.delete(&gone.id, &hlc).unwrap().unwrap();

        let fresh = Table::<ApiToken>::load(Store::in_memory(), "fresh").unwrap();
        for frame in a.sync_messages(1) {
            let merged = fresh.receive(carried(&frame), &hlc).unwrap();
            assert_eq!(merged.refused, 0);
        }
        assert_eq!(fresh.all(), a.all());
        assert!(fresh.get_live(&gone.id).is_none(), "the revoke came along");
        assert_eq!(fresh.get_live(&kept.id).unwrap().hash, kept.hash);
    }

    #[test]
    fn malformed_tokens_from_a_peer_are_refused() {
        let hlc = Hlc::default();
        let peer = Table::<ApiToken>::load(Store::in_memory(), "peer").unwrap();
        let mut no_hash = made("no hash");
        no_hash.hash = [0; 32];
        let mut bad_id = made("bad id");
        bad_id.id = "t-XYZ".into();
        let nameless = made("");
        let good = made("good");
        let sent: Vec<_> = [no_hash, bad_id, nameless, good.clone()]
            .into_iter()
            .map(|t| peer.put_one(t, &hlc).unwrap())
            .collect();
        let here = Table::<ApiToken>::load(Store::in_memory(), "here").unwrap();
        let merged = here.receive(carried(&Table::message(&sent)), &hlc).unwrap();
        assert_eq!((merged.refused, merged.changed.len()), (3, 1));
        assert_eq!(here.live()[0].id, good.id);
    }
}
