//! Anti-entropy for results: how a node that was down, partitioned or is new gets the
//! results it missed, without anyone re-sending everything.
//!
//! Every node keeps a **watermark per origin node**: the newest `at_ms` of the results it
//! holds that the origin probed (persisted in the store). When a session with a peer becomes
//! ready, the node sends those watermarks, lowered by [`MARGIN_MS`] (results are recorded
//! when a probe ends, so a slow probe can land behind newer ones). The peer answers with the
//! results it holds above them, monitor by monitor, in pages of at most [`PAGE_RESULTS`]; the
//! requester asks for the next page with the returned cursor. Writes are idempotent (the
//! result key is monitor, time and origin), so overlaps cost bandwidth, not correctness.
//! A brand-new node has no watermarks and receives everything within retention.
//!
//! Cost: one range scan per monitor from the lowest watermark, plus the missed results on
//! the wire (about 60-90 bytes each); a node that was away 1 minute pulls about a minute and
//! [`MARGIN_MS`] of results from each peer.

use std::collections::HashMap;

use ringwatch_proto::ProbeResult;

use crate::context::Ctx;
use crate::store::StoreResult;

/// Results per catch-up page: far below the transport's 16 MiB frame limit.
pub const PAGE_RESULTS: usize = 5_000;
/// How far below its watermarks a node asks, to cover results recorded out of order.
pub const MARGIN_MS: u64 = 15_000;

/// Where a catch-up continues: `(monitor id, at_ms)`, inclusive.
pub type Cursor = (String, u64);

/// The watermarks to send in a catch-up request.
pub fn request_watermarks(ctx: &Ctx) -> Vec<(String, u64)> {
    ctx.watermarks()
        .into_iter()
        .map(|(node, ms)| (node, ms.saturating_sub(MARGIN_MS)))
        .collect()
}

/// One page of results above `watermarks`, starting at `cursor`. Blocking (store scans).
pub fn page(
    ctx: &Ctx,
    watermarks: &[(String, u64)],
    cursor: Option<Cursor>,
) -> StoreResult<(Vec<ProbeResult>, Option<Cursor>)> {
    let wm: HashMap<&str, u64> = watermarks.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    // Scan from the lowest watermark of the origins we hold results from (an origin the
    // requester does not list counts as 0: it wants all of it).
    let floor = ctx
        .watermarks()
        .iter()
        .map(|(origin, _)| wm.get(origin.as_str()).copied().unwrap_or(0))
        .min()
        .unwrap_or(0);
    let mut ids = ctx.live.ids();
    ids.sort_unstable();
    let (start_id, start_ms) = cursor.unwrap_or_default();
    let mut out = Vec::new();
    for id in ids.into_iter().filter(|id| *id >= start_id) {
        let since = if id == start_id {
            start_ms.max(floor)
        } else {
            floor
        };
        let want = PAGE_RESULTS - out.len();
        let rows = ctx.store.results(&id, since, want)?;
        let full = rows.len() == want;
        let last = rows.last().map(|r| r.at_ms);
        out.extend(
            rows.into_iter()
                .filter(|r| wm.get(r.node.as_str()).is_none_or(|t| r.at_ms > *t)),
        );
        if full {
            // Resume at the last time seen (inclusive: a repeat is harmless).
            return Ok((out, last.map(|t| (id, t))));
        }
    }
    Ok((out, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::node::Node;
    use crate::store::Store;
    use ringwatch_proto::Monitor;

    fn result(id: &str, at_ms: u64, node: &str) -> ProbeResult {
        ProbeResult {
            monitor_id: id.into(),
            at_ms,
            ok: true,
            status_code: Some(200),
            latency_ms: 1,
            error: None,
            error_kind: None,
            node: node.into(),
            tls_days_left: None,
            zone: String::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_cover_exactly_what_is_above_the_watermarks() {
        let config = Config {
            name: "cu".into(),
            http: "127.0.0.1:0".parse().unwrap(),
            cluster: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        }
        .finish()
        .unwrap();
        let store = Store::in_memory();
        let mut ms = Vec::new();
        for i in 0..3 {
            let mut m = Monitor::new(format!("m{i}"), "http://127.0.0.1:9/".into());
            m.active = false;
            ms.push(m);
        }
        store.put_monitors(&ms).unwrap();
        // 3 monitors x 4,000 results from two origins.
        let mut rs = Vec::new();
        for m in &ms {
            for t in 0..2_000 {
                rs.push(result(&m.id, t, "a"));
                rs.push(result(&m.id, t, "b"));
            }
        }
        store.append_results(&rs).unwrap();
        let node = Node::start_with_store(config, store).await.unwrap();
        let ctx = node.ctx.clone();
        // The requester holds origin "a" up to 1,000 and knows nothing of "b".
        let wms = vec![("a".to_string(), 999)];
        let mut got = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let (page, next) = page(&ctx, &wms, cursor.clone()).unwrap();
            assert!(page.len() <= PAGE_RESULTS);
            got.extend(page);
            pages += 1;
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert!(pages >= 2);
        got.sort_by(|x, y| {
            (&x.monitor_id, x.at_ms, &x.node).cmp(&(&y.monitor_id, y.at_ms, &y.node))
        });
        got.dedup();
        // Everything of "b" and "a" above 999: 3 x (2,000 + 1,000).
        assert_eq!(got.len(), 9_000);
        assert!(got.iter().all(|r| r.node == "b" || r.at_ms > 999));
        node.shutdown().await;
    }
}
