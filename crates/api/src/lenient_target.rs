//! Request targets as curl sends them. The tutorials filter lists with
//! `property=name=="RestStorageToAEP"`, which curl puts on the wire with its quotes raw, and
//! `property=createdAt>1600000000` with a raw `>`; the `http` crate hyper parses targets with
//! refuses `"`, `<` and `>` in a query (and `<`, `>` and `` ` `` in a path), so hyper would
//! answer such requests `400` with an empty body before flowd sees them.
//!
//! [`LenientTarget`] wraps a connection's read side and percent-encodes those bytes in each
//! request line's target before hyper reads it (`"` → `%22`, …), which is what a browser or a
//! careful client sends anyway: the query decodes to the same parameters. To find each request
//! line of a keep-alive connection it follows HTTP/1.1 framing: the head up to its empty line,
//! then a `Content-Length` body. A chunked body, an upgrade, or a head it cannot read (an
//! unparsable or repeated `Content-Length`, a line longer than [`MAX_LINE_BYTES`]) makes it
//! step aside for the rest of the connection, passing bytes through unchanged: hyper then
//! answers exactly as it would have without the wrapper. Nothing but those bytes of a target
//! is ever changed, and the write side is untouched.
//!
//! No crate does this (hyper has no lenient-target option), hence this small state machine.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest head line whose content is inspected; a longer one makes the wrapper step
/// aside (hyper refuses heads that large anyway).
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// Where in the byte stream of a connection the next byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Before or in the method of a request line.
    Method,
    /// In the request target.
    Target,
    /// After the target, up to the end of the request line.
    Version,
    /// In the header lines (`line` collects the current one).
    Headers,
    /// In a body with this many bytes left.
    Body(u64),
    /// Stepped aside: everything passes unchanged.
    Passthrough,
}

/// The state machine, independent of IO.
#[derive(Debug)]
struct Rewriter {
    position: Position,
    /// The header line being read (without its line end).
    line: Vec<u8>,
    /// The body length the head announces.
    content_length: Option<u64>,
    /// Whether the head makes the rest of the connection opaque (chunked body, upgrade,
    /// a framing it cannot read).
    opaque: bool,
}

fn needs_encoding(byte: u8) -> bool {
    matches!(byte, b'"' | b'<' | b'>' | b'`')
}

impl Rewriter {
    fn new() -> Rewriter {
        Rewriter {
            position: Position::Method,
            line: Vec::new(),
            content_length: None,
            opaque: false,
        }
    }

    /// Appends what hyper should read for `input` to `output`.
    fn feed(&mut self, mut input: &[u8], output: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.position {
                Position::Passthrough => {
                    output.extend_from_slice(input);
                    return;
                }
                Position::Body(left) => {
                    let taken = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    output.extend_from_slice(&input[..taken]);
                    input = &input[taken..];
                    let left = left - taken as u64;
                    self.position = if left == 0 {
                        Position::Method
                    } else {
                        Position::Body(left)
                    };
                }
                _ => {
                    let byte = input[0];
                    input = &input[1..];
                    self.head_byte(byte, output);
                }
            }
        }
    }

    fn head_byte(&mut self, byte: u8, output: &mut Vec<u8>) {
        match self.position {
            Position::Method => {
                output.push(byte);
                // Empty lines before a request line are allowed; the method ends at a space.
                if byte == b' ' {
                    self.position = Position::Target;
                }
            }
            Position::Target => {
                if byte == b' ' {
                    output.push(byte);
                    self.position = Position::Version;
                } else if byte == b'\n' {
                    // HTTP/0.9-style line without a version: let hyper judge it.
                    output.push(byte);
                    self.step_aside();
                } else if needs_encoding(byte) {
                    output.extend_from_slice(format!("%{byte:02X}").as_bytes());
                } else {
                    output.push(byte);
                }
            }
            Position::Version => {
                output.push(byte);
                if byte == b'\n' {
                    self.position = Position::Headers;
                    self.line.clear();
                    self.content_length = None;
                    self.opaque = false;
                }
            }
            Position::Headers => {
                output.push(byte);
                if byte != b'\n' {
                    if self.line.len() >= MAX_LINE_BYTES {
                        self.step_aside();
                    } else {
                        self.line.push(byte);
                    }
                    return;
                }
                let line = std::mem::take(&mut self.line);
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                if line.is_empty() {
                    self.end_of_head();
                } else {
                    self.header_line(line);
                }
            }
            Position::Body(_) | Position::Passthrough => unreachable!("not head bytes"),
        }
    }

    fn header_line(&mut self, line: &[u8]) {
        let Some(colon) = line.iter().position(|byte| *byte == b':') else {
            return;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            let parsed = std::str::from_utf8(value)
                .ok()
                .and_then(|text| text.parse::<u64>().ok());
            match (parsed, self.content_length) {
                (Some(length), None) => self.content_length = Some(length),
                (Some(length), Some(previous)) if length == previous => {}
                _ => self.opaque = true,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"upgrade")
        {
            self.opaque = true;
        }
    }

    fn end_of_head(&mut self) {
        if self.opaque {
            self.step_aside();
            return;
        }
        self.position = match self.content_length {
            Some(length) if length > 0 => Position::Body(length),
            _ => Position::Method,
        };
    }

    fn step_aside(&mut self) {
        self.position = Position::Passthrough;
        self.line = Vec::new();
    }
}

/// A connection whose request targets are made acceptable to hyper (see the module docs).
pub struct LenientTarget<S> {
    inner: S,
    rewriter: Rewriter,
    /// Rewritten bytes not yet handed to the reader.
    pending: Vec<u8>,
    consumed: usize,
}

impl<S> LenientTarget<S> {
    pub fn new(inner: S) -> LenientTarget<S> {
        LenientTarget {
            inner,
            rewriter: Rewriter::new(),
            pending: Vec::new(),
            consumed: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LenientTarget<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.consumed == this.pending.len() {
            if this.rewriter.position == Position::Passthrough {
                return Pin::new(&mut this.inner).poll_read(context, buf);
            }
            let mut raw = [0u8; 8 * 1024];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.inner).poll_read(context, &mut raw_buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
            if raw_buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.pending.clear();
            this.consumed = 0;
            this.rewriter.feed(raw_buf.filled(), &mut this.pending);
        }
        let available = &this.pending[this.consumed..];
        let taken = available.len().min(buf.remaining());
        buf.put_slice(&available[..taken]);
        this.consumed += taken;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LenientTarget<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(context, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(context, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What hyper reads for `input` fed in pieces of `piece` bytes.
    fn rewritten(input: &[u8], piece: usize) -> String {
        let mut rewriter = Rewriter::new();
        let mut output = Vec::new();
        for chunk in input.chunks(piece) {
            rewriter.feed(chunk, &mut output);
        }
        String::from_utf8(output).unwrap()
    }

    #[test]
    fn quotes_and_angle_brackets_of_targets_are_encoded_in_every_request_of_a_connection() {
        let input =
            b"GET /flows?property=name==\"ab\"&property=createdAt>5 HTTP/1.1\r\nHost: x\r\n\r\n\
POST /runs?x=\"1\" HTTP/1.1\r\nContent-Length: 12\r\n\r\n{\"a\": \"<>\"}\n\
GET /flows?property=name=='x'&y=<z> HTTP/1.1\r\n\r\n";
        let expected = "GET /flows?property=name==%22ab%22&property=createdAt%3E5 HTTP/1.1\r\nHost: x\r\n\r\n\
POST /runs?x=%221%22 HTTP/1.1\r\nContent-Length: 12\r\n\r\n{\"a\": \"<>\"}\n\
GET /flows?property=name=='x'&y=%3Cz%3E HTTP/1.1\r\n\r\n";
        for piece in [1, 2, 7, 1024] {
            assert_eq!(rewritten(input, piece), expected, "pieces of {piece}");
        }
    }

    #[test]
    fn headers_and_bodies_are_never_changed() {
        let input = b"PUT /x HTTP/1.1\r\nX-Quote: \"<>\"\r\ncontent-length: 3\r\n\r\n\"<>";
        assert_eq!(rewritten(input, 3), String::from_utf8_lossy(input));
    }

    #[test]
    fn a_chunked_body_or_an_unreadable_length_passes_the_rest_through_unchanged() {
        let chunked = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\"<>\r\n0\r\n\r\nGET /y?q=\"z\" HTTP/1.1\r\n\r\n";
        assert_eq!(rewritten(chunked, 5), String::from_utf8_lossy(chunked));
        let conflicting = b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcdGET /y?q=\"z\" HTTP/1.1\r\n\r\n";
        assert_eq!(
            rewritten(conflicting, 5),
            String::from_utf8_lossy(conflicting)
        );
    }
}
