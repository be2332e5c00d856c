//! The block layout: many results of one monitor in one record of the `results` tree.
//!
//! A block is `[RECORD_VERSION, body...]` like every record, but its body is this module's
//! own compact layout, not postcard. Integers are LEB128 varints (7 bits a byte); times are
//! delta-of-delta coded, so results at a steady interval cost one byte of time each; node
//! names and error texts are written once per block in a string table and named by index.
//!
//! ```text
//! body    = count:varint  first_ms:varint  strings:varint  string*  entry*count
//! string  = len:varint  utf-8 bytes
//! entry   = flags:u8  dod:varint
//!           [node:varint]         if NEW_NODE    index into the strings
//!           [status:varint]       if NEW_STATUS  0 = none, else code + 1
//!           latency_ms:varint
//!           [kind:u8 error:varint] if FAILED     kind 0 = none, else 1 + code (see `kind_code`);
//!                                               error 0 = none, else 1 + string index
//!           [tls:varint]          if NEW_TLS     0 = none, else 1 + zigzag(days)
//!           [zone:varint]         if NEW_ZONE    0 = none, else 1 + string index
//! ```
//!
//! `dod` is zigzag(delta - previous delta), where delta is this entry's `at_ms` minus the
//! previous one's (the first entry's previous time is `first_ms`, every previous delta starts
//! at 0). Status, node, TLS days and zone repeat the previous entry's unless their flag is set
//! (the first entry starts from none, and must name its node). Entries are written in the
//! order given; the store gives them sorted by time.
//!
//! NEW_ZONE came with record version 4. Blocks of versions 2 and 3 never set it, so they read
//! as they are, with no zone; builds before version 4 refuse a version 4 block as newer.
//!
//! Decoding checks every length and index and returns [`DecodeError`] on anything off:
//! truncated, trailing or hostile bytes never panic and never allocate more than the input
//! could describe.

use std::collections::HashMap;

use ringwatch_proto::{DecodeError, ErrorKind, OLDEST_CURRENT_LAYOUT, RECORD_VERSION};

use super::records::ResultBody;

const OK: u8 = 1;
const NEW_STATUS: u8 = 1 << 1;
const NEW_NODE: u8 = 1 << 2;
const FAILED: u8 = 1 << 3;
const NEW_TLS: u8 = 1 << 4;
/// Since record version 4: blocks of versions 2 and 3 never set it (their results have no
/// zone), and older builds refuse a version 4 block anyway.
const NEW_ZONE: u8 = 1 << 5;
/// Flag bits this layout defines; a set bit outside them makes the block malformed.
const KNOWN_FLAGS: u8 = OK | NEW_STATUS | NEW_NODE | FAILED | NEW_TLS | NEW_ZONE;
/// Fewest bytes an entry takes (flags, time, latency): bounds `count` before allocating.
const MIN_ENTRY_BYTES: usize = 3;

/// One decoded entry; strings are indexes into [`Block::strings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    at_ms: u64,
    ok: bool,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<u32>,
    error_kind: Option<ErrorKind>,
    node: u32,
    tls_days_left: Option<i64>,
    zone: Option<u32>,
}

/// A decoded block: its entries in stored order, their strings held once.
#[derive(Debug)]
pub(super) struct Block {
    strings: Vec<String>,
    entries: Vec<Packed>,
}

impl Block {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The time of entry `i`.
    pub fn at_ms(&self, i: usize) -> u64 {
        self.entries[i].at_ms
    }

    /// The probing node of entry `i`.
    pub fn node(&self, i: usize) -> &str {
        &self.strings[self.entries[i].node as usize]
    }

    /// Entry `i` as a stored result body.
    pub fn body(&self, i: usize) -> ResultBody {
        let e = &self.entries[i];
        let text = |s: u32| self.strings[s as usize].clone();
        ResultBody {
            at_ms: e.at_ms,
            ok: e.ok,
            status_code: e.status_code,
            latency_ms: e.latency_ms,
            error: e.error.map(text),
            error_kind: e.error_kind,
            node: text(e.node),
            tls_days_left: e.tls_days_left,
            zone: e.zone.map(text).unwrap_or_default(),
        }
    }
}

/// What an entry may repeat from the one before it, and the time it is coded against.
struct Prev {
    at: i128,
    delta: i128,
    status: Option<u16>,
    node: Option<u32>,
    tls: Option<i64>,
    zone: Option<u32>,
}

impl Prev {
    /// The state before a block's first entry.
    fn start(first_ms: u64) -> Self {
        Prev {
            at: i128::from(first_ms),
            delta: 0,
            status: None,
            node: None,
            tls: None,
            zone: None,
        }
    }

    /// Moves the time on to `at`; returns the delta of delta to write.
    fn step_time(&mut self, at: u64) -> i128 {
        let delta = i128::from(at) - self.at;
        let dod = delta - self.delta;
        (self.at, self.delta) = (i128::from(at), delta);
        dod
    }
}

/// Encodes results (at least one, in time order) as a block record.
pub(super) fn encode<'e>(entries: &'e [ResultBody]) -> Vec<u8> {
    let mut strings: HashMap<&'e str, u32> = HashMap::new();
    let mut table: Vec<&'e str> = Vec::new();
    let mut index = |s: &'e str| -> u32 {
        *strings.entry(s).or_insert_with(|| {
            table.push(s);
            table.len() as u32 - 1
        })
    };
    let first_ms = entries.first().map_or(0, |e| e.at_ms);
    let mut prev = Prev::start(first_ms);
    let mut body = Vec::with_capacity(16 + entries.len() * 4);
    for e in entries {
        let node = index(&e.node);
        let error = e.error.as_deref().map(&mut index);
        let zone = (!e.zone.is_empty()).then(|| index(&e.zone));
        put_entry(&mut body, e, [Some(node), error, zone], &mut prev);
    }
    let strings_len: usize = table.iter().map(|s| s.len() + 1).sum();
    let mut out = Vec::with_capacity(body.len() + strings_len + 32);
    out.push(RECORD_VERSION);
    put_varint(&mut out, entries.len() as u128);
    put_varint(&mut out, u128::from(first_ms));
    put_varint(&mut out, table.len() as u128);
    for s in &table {
        put_varint(&mut out, s.len() as u128);
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// The string indexes of an entry's node, error text and zone.
type EntryStrings = [Option<u32>; 3];

/// Writes one entry whose node, error text and zone are the strings `strings` names.
fn put_entry(out: &mut Vec<u8>, e: &ResultBody, strings: EntryStrings, prev: &mut Prev) {
    let [node, error, zone] = strings;
    let node = node.unwrap_or_default();
    let mut flags = if e.ok { OK } else { 0 };
    if e.status_code != prev.status {
        flags |= NEW_STATUS;
    }
    if prev.node != Some(node) {
        flags |= NEW_NODE;
    }
    if e.error.is_some() || e.error_kind.is_some() {
        flags |= FAILED;
    }
    if e.tls_days_left != prev.tls {
        flags |= NEW_TLS;
    }
    if zone != prev.zone {
        flags |= NEW_ZONE;
    }
    out.push(flags);
    put_varint(out, zigzag(prev.step_time(e.at_ms)));
    if flags & NEW_NODE != 0 {
        put_varint(out, u128::from(node));
    }
    if flags & NEW_STATUS != 0 {
        put_varint(out, e.status_code.map_or(0, |c| u128::from(c) + 1));
    }
    put_varint(out, u128::from(e.latency_ms));
    if flags & FAILED != 0 {
        out.push(e.error_kind.map_or(0, kind_code));
        put_varint(out, error.map_or(0, |s| u128::from(s) + 1));
    }
    if flags & NEW_TLS != 0 {
        put_varint(
            out,
            e.tls_days_left.map_or(0, |d| zigzag(i128::from(d)) + 1),
        );
    }
    if flags & NEW_ZONE != 0 {
        put_varint(out, zone.map_or(0, |s| u128::from(s) + 1));
    }
    (prev.status, prev.node, prev.tls, prev.zone) =
        (e.status_code, Some(node), e.tls_days_left, zone);
}

/// How many results a block record holds, from its head alone.
pub(super) fn count(bytes: &[u8]) -> Result<usize, DecodeError> {
    Reader::record(bytes)?.count()
}

/// Decodes a block record.
pub(super) fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
    let mut r = Reader::record(bytes)?;
    let count = r.count()?;
    let mut prev = Prev::start(r.u64()?);
    let strings = r.strings()?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        entries.push(r.entry(&mut prev, strings.len())?);
    }
    if !r.rest.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(Block { strings, entries })
}

/// The stable on-disk number of an error kind (never reorder; add at the end).
fn kind_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Dns => 1,
        ErrorKind::Refused => 2,
        ErrorKind::Timeout => 3,
        ErrorKind::Tls => 4,
        ErrorKind::Redirects => 5,
        ErrorKind::BadStatus => 6,
        ErrorKind::Assertion => 7,
        ErrorKind::Protocol => 8,
        ErrorKind::Other => 9,
    }
}

fn kind_from_code(code: u8) -> Option<ErrorKind> {
    Some(match code {
        1 => ErrorKind::Dns,
        2 => ErrorKind::Refused,
        3 => ErrorKind::Timeout,
        4 => ErrorKind::Tls,
        5 => ErrorKind::Redirects,
        6 => ErrorKind::BadStatus,
        7 => ErrorKind::Assertion,
        8 => ErrorKind::Protocol,
        9 => ErrorKind::Other,
        _ => return None,
    })
}

/// String `raw - plus` of a table of `n`.
fn string_index(raw: u128, n: usize, plus: u128) -> Result<u32, DecodeError> {
    raw.checked_sub(plus)
        .and_then(|i| u32::try_from(i).ok())
        .filter(|&i| (i as usize) < n)
        .ok_or_else(|| malformed("string index out of range"))
}

fn malformed(what: &str) -> DecodeError {
    DecodeError::Malformed(format!("result block: {what}"))
}

fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A cursor over untrusted bytes: every read checks what is left.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader past the version byte of a record, which must have this build's block layout
    /// (unchanged since record version 2 but for the zone, which older blocks do not set).
    fn record(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        match bytes.split_first() {
            None => Err(DecodeError::Empty),
            Some((v, rest)) if (OLDEST_CURRENT_LAYOUT..=RECORD_VERSION).contains(v) => {
                Ok(Reader { rest })
            }
            Some((&found, _)) => Err(DecodeError::Version {
                found,
                expected: RECORD_VERSION,
            }),
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| malformed("truncated"))?;
        self.rest = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    /// A varint of at most 128 bits.
    fn varint(&mut self) -> Result<u128, DecodeError> {
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = self.byte()?;
            let bits = u128::from(b & 0x7f);
            if shift == 126 && bits > 0b11 {
                return Err(malformed("varint overflows"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("varint too long"))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        u64::try_from(self.varint()?).map_err(|_| malformed("integer out of range"))
    }

    /// A count of items of at least `min_bytes` each, checked against the bytes left.
    fn len(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        usize::try_from(self.varint()?)
            .ok()
            .filter(|&n| n.saturating_mul(min_bytes) <= self.rest.len())
            .ok_or_else(|| malformed("count exceeds the record"))
    }

    /// The string table.
    fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.len(1)?;
        let mut strings = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.len(1)?;
            let raw = self.take(len)?;
            let s = std::str::from_utf8(raw).map_err(|_| malformed("a string is not utf-8"))?;
            strings.push(s.to_owned());
        }
        Ok(strings)
    }

    /// The next entry, against a string table of `n` strings.
    fn entry(&mut self, prev: &mut Prev, n: usize) -> Result<Packed, DecodeError> {
        let flags = self.byte()?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(malformed("unknown entry flags"));
        }
        let time = || malformed("time out of range");
        let delta = prev
            .delta
            .checked_add(unzigzag(self.varint()?))
            .ok_or_else(time)?;
        let at = prev
            .at
            .checked_add(delta)
            .filter(|at| u64::try_from(*at).is_ok());
        (prev.at, prev.delta) = (at.ok_or_else(time)?, delta);
        if flags & NEW_NODE != 0 {
            prev.node = Some(string_index(self.varint()?, n, 0)?);
        }
        if flags & NEW_STATUS != 0 {
            prev.status = match self.varint()? {
                0 => None,
                c => Some(u16::try_from(c - 1).map_err(|_| malformed("status code"))?),
            };
        }
        let latency_ms = self.u64()?;
        let (mut error_kind, mut error) = (None, None);
        if flags & FAILED != 0 {
            error_kind = match self.byte()? {
                0 => None,
                k => Some(kind_from_code(k).ok_or_else(|| malformed("error kind"))?),
            };
            error = match self.varint()? {
                0 => None,
                raw => Some(string_index(raw, n, 1)?),
            };
        }
        if flags & NEW_TLS != 0 {
            prev.tls = match self.varint()? {
                0 => None,
                d => Some(i64::try_from(unzigzag(d - 1)).map_err(|_| malformed("tls days"))?),
            };
        }
        if flags & NEW_ZONE != 0 {
            prev.zone = match self.varint()? {
                0 => None,
                raw => Some(string_index(raw, n, 1)?),
            };
        }
        Ok(Packed {
            at_ms: prev.at as u64,
            ok: flags & OK != 0,
            status_code: prev.status,
            latency_ms,
            error,
            error_kind,
            node: prev
                .node
                .ok_or_else(|| malformed("the first entry names no node"))?,
            tls_days_left: prev.tls,
            zone: prev.zone,
        })
    }

    /// The entry count of a block: at least one.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = self.len(MIN_ENTRY_BYTES)?;
        if n == 0 {
            return Err(malformed("no entries"));
        }
        Ok(n)
    }
}

#[cfg(test)]
#[path = "blocks_tests.rs"]
mod tests;
