//! The two things an adapter lends the core: a way to read a request's headers and a way
//! to edit a response's. Every framework has its own header map (actix-web's is not the
//! `http` crate's), so the core asks for these instead of a concrete type; the `http`
//! crate's [`HeaderMap`] implements both.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Read access to a request's headers.
///
/// An adapter for a framework whose header map is not [`http::HeaderMap`] implements
/// this on a small wrapper around its own map:
///
/// ```
/// use http::HeaderName;
/// use session_http::RequestHeaders;
///
/// /// A framework whose request headers are a list of pairs.
/// struct Pairs<'a>(&'a [(String, Vec<u8>)]);
///
/// impl RequestHeaders for Pairs<'_> {
///     fn header_values<'h>(&'h self, name: &'h HeaderName) -> impl Iterator<Item = &'h [u8]> + 'h {
///         self.0
///             .iter()
///             .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_str()))
///             .map(|(_, v)| v.as_slice())
///     }
/// }
/// ```
pub trait RequestHeaders {
    /// Every value the request carries for `name`, in order, as raw bytes (header
    /// values need not be UTF-8).
    fn header_values<'h>(&'h self, name: &'h HeaderName) -> impl Iterator<Item = &'h [u8]> + 'h;
}

/// Read and write access to a response's headers, for
/// [`Exchange::finish`](crate::Exchange::finish).
pub trait ResponseHeaders: RequestHeaders {
    /// Adds `value` for `name`, keeping the values already there (`Set-Cookie`, `Vary`).
    fn append_header(&mut self, name: &HeaderName, value: &HeaderValue);
    /// Sets `name` to `value` alone, replacing what was there.
    fn insert_header(&mut self, name: &HeaderName, value: &HeaderValue);
    /// Whether the response has any value for `name`.
    fn contains_header(&self, name: &HeaderName) -> bool {
        self.header_values(name).next().is_some()
    }
}

impl RequestHeaders for HeaderMap {
    fn header_values<'h>(&'h self, name: &'h HeaderName) -> impl Iterator<Item = &'h [u8]> + 'h {
        self.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}

impl ResponseHeaders for HeaderMap {
    fn append_header(&mut self, name: &HeaderName, value: &HeaderValue) {
        self.append(name.clone(), value.clone());
    }

    fn insert_header(&mut self, name: &HeaderName, value: &HeaderValue) {
        self.insert(name.clone(), value.clone());
    }

    fn contains_header(&self, name: &HeaderName) -> bool {
        self.contains_key(name)
    }
}
