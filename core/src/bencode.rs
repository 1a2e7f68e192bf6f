//! Bencoding in oxenc's dialect (SESSION-V2.md §0): byte strings `<len>:<bytes>`, integers
//! `i<n>e`, lists `l…e` and dicts `d…e` whose keys are byte strings in strictly ascending byte
//! order. One implementation for the tree: the v4 onion framing and protocol v2's messages.
//!
//! Reading is strict, because signatures cover the encoded bytes: one canonical encoding per
//! value (no leading zeros, no `-0`, keys in order, nothing after the value), bounded nesting.
//! [`Dict::signed_prefix`] gives the bytes oxenc's signature convention signs: the dict from its
//! leading `d` up to, not including, a given key.

use crate::error::{Error, Result};

/// How deep lists and dicts may nest; our formats use two levels.
const MAX_DEPTH: usize = 16;

/// A parsed value, borrowing its byte strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    Bytes(&'a [u8]),
    Int(i64),
    List(Vec<Item<'a>>),
    Dict(Dict<'a>),
}

/// A parsed dict: its entries in order, each with where its key starts in the encoded dict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dict<'a> {
    raw: &'a [u8],
    entries: Vec<(&'a [u8], Item<'a>, usize)>,
}

impl<'a> Dict<'a> {
    pub fn get(&self, key: &[u8]) -> Option<&Item<'a>> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, _)| v)
    }

    pub fn bytes(&self, key: &[u8]) -> Option<&'a [u8]> {
        match self.get(key) {
            Some(Item::Bytes(b)) => Some(b),
            _ => None,
        }
    }

    pub fn int(&self, key: &[u8]) -> Option<i64> {
        match self.get(key) {
            Some(Item::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.entries.iter().map(|(k, _, _)| *k)
    }

    /// The encoded dict from its `d` up to, not including, `key`'s entry: what oxenc's
    /// `append_signature` signs when `key` holds the signature. `None` without that key.
    pub fn signed_prefix(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, at)| &self.raw[..*at])
    }

    /// The encoded value of `key`'s entry, as it was read (to pass on a value this version does
    /// not understand unchanged).
    pub fn raw_value(&self, key: &[u8]) -> Option<&'a [u8]> {
        let i = self.entries.iter().position(|(k, _, _)| *k == key)?;
        let start = self.entries[i].2 + string_header(key.len()).len() + key.len();
        let end = self
            .entries
            .get(i + 1)
            .map_or(self.raw.len() - 1, |(_, _, at)| *at);
        Some(&self.raw[start..end])
    }

    /// The whole encoded dict.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

/// Parses exactly one value filling `data`.
pub fn parse(data: &[u8]) -> Result<Item<'_>> {
    let (item, used) = parse_prefix(data)?;
    if used != data.len() {
        return Err(Error::Malformed("bencode: data after the value"));
    }
    Ok(item)
}

/// Parses one value at the start of `data`; returns it and how many bytes it took.
pub fn parse_prefix(data: &[u8]) -> Result<(Item<'_>, usize)> {
    let mut reader = Reader { data, at: 0 };
    let item = reader.value(0)?;
    Ok((item, reader.at))
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Result<u8> {
        self.data
            .get(self.at)
            .copied()
            .ok_or(Error::Malformed("bencode: value runs past the end"))
    }

    fn value(&mut self, depth: usize) -> Result<Item<'a>> {
        if depth > MAX_DEPTH {
            return Err(Error::Malformed("bencode: nested too deeply"));
        }
        match self.peek()? {
            b'0'..=b'9' => self.string().map(Item::Bytes),
            b'i' => {
                self.at += 1;
                let n = self.integer(b'e')?;
                Ok(Item::Int(n))
            }
            b'l' => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.at += 1;
                Ok(Item::List(items))
            }
            b'd' => {
                let start = self.at;
                self.at += 1;
                let mut entries: Vec<(&'a [u8], Item<'a>, usize)> = Vec::new();
                while self.peek()? != b'e' {
                    let key_at = self.at - start;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(Error::Malformed("bencode: a dict key is not a string"));
                    }
                    let key = self.string()?;
                    if entries.last().is_some_and(|(last, _, _)| *last >= key) {
                        return Err(Error::Malformed("bencode: dict keys out of order"));
                    }
                    let value = self.value(depth + 1)?;
                    entries.push((key, value, key_at));
                }
                self.at += 1;
                Ok(Item::Dict(Dict {
                    raw: &self.data[start..self.at],
                    entries,
                }))
            }
            _ => Err(Error::Malformed("bencode: not a value")),
        }
    }

    /// Digits (with an optional `-`) up to `end`, canonical: no leading zeros, no `-0`.
    fn integer(&mut self, end: u8) -> Result<i64> {
        let rest = &self.data[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == end)
            .ok_or(Error::Malformed("bencode: unterminated number"))?;
        let text = &rest[..len];
        let digits = text.strip_prefix(b"-").unwrap_or(text);
        let canonical = !digits.is_empty()
            && digits.len() <= 19
            && digits.iter().all(u8::is_ascii_digit)
            && (digits == b"0" || digits[0] != b'0')
            && !(text.len() != digits.len() && digits == b"0");
        if !canonical {
            return Err(Error::Malformed("bencode: bad number"));
        }
        let n = core::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or(Error::Malformed("bencode: bad number"))?;
        self.at += len + 1;
        Ok(n)
    }

    fn string(&mut self) -> Result<&'a [u8]> {
        let len = self.integer(b':')?;
        let len = usize::try_from(len).map_err(|_| Error::Malformed("bencode: bad number"))?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.data.len())
            .ok_or(Error::Malformed("bencode: string runs past the end"))?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }
}

/// Writes bencoded values. Dict keys must be given in ascending order (a programming error
/// otherwise, so it panics rather than write a dict no reader accepts).
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
    open: Vec<Open>,
}

/// An open container; a dict remembers its last key.
#[derive(Debug)]
enum Open {
    List,
    Dict(Option<Vec<u8>>),
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bytes(&mut self, data: &[u8]) -> &mut Self {
        self.out.extend_from_slice(&string_header(data.len()));
        self.out.extend_from_slice(data);
        self
    }

    /// An already encoded value, written as it is (a record kept byte for byte, e.g. one
    /// whose signature or digest covers its encoding).
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.out.extend_from_slice(encoded);
        self
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        self.out.push(b'i');
        self.out.extend_from_slice(n.to_string().as_bytes());
        self.out.push(b'e');
        self
    }

    pub fn list(&mut self) -> &mut Self {
        self.out.push(b'l');
        self.open.push(Open::List);
        self
    }

    pub fn dict(&mut self) -> &mut Self {
        self.out.push(b'd');
        self.open.push(Open::Dict(None));
        self
    }

    /// The next key of the innermost dict; its value is written next.
    pub fn key(&mut self, key: &[u8]) -> &mut Self {
        match self.open.last_mut() {
            Some(Open::Dict(last)) => {
                assert!(
                    last.as_deref().is_none_or(|l| l < key),
                    "bencode dict keys must ascend"
                );
                *last = Some(key.to_vec());
            }
            _ => panic!("bencode key outside a dict"),
        }
        self.bytes(key)
    }

    /// Closes the innermost list or dict.
    pub fn end(&mut self) -> &mut Self {
        self.open
            .pop()
            .expect("bencode end without an open list or dict");
        self.out.push(b'e');
        self
    }

    /// What has been written so far (e.g. the body a signature covers).
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    pub fn finish(self) -> Vec<u8> {
        assert!(self.open.is_empty(), "bencode: a list or dict left open");
        self.out
    }
}

/// `<len>:`, the head of a byte string (for framing written around bytes where they lie).
pub fn string_header(len: usize) -> Vec<u8> {
    let mut head = len.to_string().into_bytes();
    head.push(b':');
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_signed_prefix() {
        let mut w = Writer::new();
        w.dict().key(b"S").bytes(&[7; 3]).key(b"c").bytes(b"hi");
        w.key(b"l").list().int(-5).int(0).bytes(b"").end();
        let body = w.as_bytes().to_vec();
        w.key(b"~").bytes(&[1; 4]).end();
        let enc = w.finish();
        assert_eq!(
            enc,
            b"d1:S3:\x07\x07\x071:c2:hi1:lli-5ei0e0:e1:~4:\x01\x01\x01\x01e"
        );
        let Item::Dict(d) = parse(&enc).unwrap() else {
            panic!()
        };
        assert_eq!(d.bytes(b"c"), Some(&b"hi"[..]));
        assert_eq!(d.signed_prefix(b"~"), Some(&body[..]));
        assert_eq!(d.raw(), &enc[..]);
        assert_eq!(
            d.get(b"l"),
            Some(&Item::List(vec![
                Item::Int(-5),
                Item::Int(0),
                Item::Bytes(b"")
            ]))
        );
    }

    #[test]
    fn non_canonical_or_broken_input_is_refused() {
        for bad in [
            &b"i-0e"[..],
            b"i01e",
            b"ie",
            b"i1",
            b"01:a",
            b"2:a",
            b"d1:b0:1:a0:e",
            b"d1:a0:1:a0:e",
            b"di1e0:e",
            b"l",
            b"x",
            b"0:0:",
            b"i99999999999999999999e",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = [vec![b'l'; 40], vec![b'e'; 40]].concat();
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn a_prefix_leaves_what_follows() {
        let (item, used) = parse_prefix(b"d1:a0:e\0\0").unwrap();
        assert!(matches!(item, Item::Dict(_)));
        assert_eq!(used, 7);
    }
}
