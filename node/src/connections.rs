//! What one client may cost the node at the connection level: a cap on open connections and
//! timeouts on the slow parts of HTTP (headers, idle keep-alive), so 1,000 slowloris
//! connections hold a bounded amount of memory and nothing forever. Body reads have their own
//! deadline in `http`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::HttpConfig;

/// Largest request head (start line and headers) a node reads; every route's are small.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The HTTP/1 read buffer per connection (hyper's default is ~400 KB): a request head larger
/// than this is refused with 431; bodies stream through it.
pub const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Most concurrent HTTP/2 streams on one connection. A relay's connection to another node
/// carries many users' requests, and a waiting retrieve holds its stream for up to 25 s: a
/// low cap would queue every other request behind the waits (HTTP/2 clients do not open a
/// second connection when the first is full).
pub const MAX_H2_STREAMS: u32 = 1024;

/// Sets the timers and bounds of every connection the node serves.
pub fn harden(builder: &mut Builder<TokioExecutor>, config: &HttpConfig) {
    let header_timeout = Duration::from_millis(config.header_read_timeout_ms);
    // hyper's header timeout also runs while a kept-alive connection waits for its next
    // request, so it is the idle timeout too.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(READ_BUFFER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_H2_STREAMS)
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
}

/// An acceptor that admits at most `max_connections` at once and drops the rest at once
/// (before any TLS handshake); `A` does the rest (plain or TLS).
#[derive(Debug, Clone)]
pub struct CappedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
}

impl<A> CappedAcceptor<A> {
    pub fn new(inner: A, max_connections: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(max_connections)),
        }
    }
}

impl<A, I, S> Accept<I, S> for CappedAcceptor<A>
where
    A: Accept<I, S> + Clone + Send + 'static,
    A::Future: Send,
    I: Send + 'static,
    S: Send + 'static,
{
    type Stream = Held<A::Stream>;
    type Service = A::Service;
    type Future =
        Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send + 'static>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let permit = self.slots.clone().try_acquire_owned();
        let inner = self.inner.clone();
        Box::pin(async move {
            // Full: the connection is closed without reading a byte.
            let permit = permit.map_err(|_| io::Error::other("connection cap reached"))?;
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((
                Held {
                    stream,
                    _permit: permit,
                },
                service,
            ))
        })
    }
}

/// A stream that holds its connection slot until it is dropped.
#[derive(Debug)]
pub struct Held<S> {
    stream: S,
    _permit: OwnedSemaphorePermit,
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
