//! zstd as libsession uses it (group messages, config messages): compress at the fastest level,
//! and decompress with the window and the output capped, so a small bomb cannot allocate much.

/// The largest zstd window accepted: a frame asking for more is refused before anything is
/// allocated for it.
const MAX_WINDOW: u64 = 2 << 20;

/// `data` compressed, or `None` when that is not strictly shorter (libsession's rule: then
/// the data goes as it is).
pub fn compress_if_shorter(data: &[u8]) -> Option<Vec<u8>> {
    let z = ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest);
    (z.len() < data.len()).then_some(z)
}

/// Why data did not decompress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unzstd {
    /// Not a zstd frame (or one asking for too large a window), or empty.
    Bad,
    /// More than the cap: decompression stopped there.
    TooLarge,
}

/// Decompresses at most `max` bytes.
pub fn decompress(z: &[u8], max: usize) -> Result<Vec<u8>, Unzstd> {
    use ruzstd::decoding::StreamingDecoder;
    use ruzstd::io::Read;
    let decoder =
        StreamingDecoder::new_with_max_window_size(z, MAX_WINDOW).map_err(|_| Unzstd::Bad)?;
    let mut out = Vec::new();
    decoder
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Unzstd::Bad)?;
    match out.len() {
        0 => Err(Unzstd::Bad),
        n if n > max => Err(Unzstd::TooLarge),
        _ => Ok(out),
    }
}
