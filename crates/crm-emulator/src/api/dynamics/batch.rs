//! `POST $batch` (multipart/mixed, execute-batch-operations): top-level
//! operations and change sets (atomic: a failure rolls the set back and
//! its answer is that one error), run in order under one store lock;
//! without `Prefer: odata.continue-on-error` the batch stops at the first
//! failure. At most 1,000 operations. Every operation is charged execution
//! time and (unless switched off from the control API) counts as one request
//! on top of the `$batch` request itself; a batch that does not fit the
//! windows is refused whole with 429.
//! `$n` Content-ID references are not supported.

use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::sync::oneshot;

use super::error::{code, DvError};
use super::limits::{too_many_requests, too_much_time};
use super::reply::Reply;
use super::{dispatch, parse_query, pct_decode, Call};
use crate::state::{Api, Shared};

pub const MAX_OPERATIONS: usize = 1000;
/// The largest `$batch` body taken (the emulator's choice; other bodies
/// keep `Config::max_body_bytes`).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One operation of the request, with its `Content-ID`.
#[derive(Debug)]
struct Op {
    content_id: Option<String>,
    call: Call,
}

#[derive(Debug)]
enum Item {
    Single(Box<Op>),
    ChangeSet(Vec<Op>),
}

fn boundary(content_type: &str) -> Option<String> {
    let (ty, params) = content_type.split_once(';')?;
    if !ty.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The parts between `--boundary` lines, each as its lines.
fn parts(text: &str, boundary: &str) -> Result<Vec<Vec<String>>, DvError> {
    let open = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut closed = false;
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.trim_end() == close {
            out.extend(current.take());
            closed = true;
            break;
        }
        if line.trim_end() == open {
            out.extend(current.take());
            current = Some(Vec::new());
            continue;
        }
        if let Some(c) = &mut current {
            c.push(line.to_string());
        }
    }
    if !closed {
        return Err(bad(format!(
            "the multipart body does not end with '{close}'"
        )));
    }
    Ok(out)
}

fn bad(message: impl Into<String>) -> DvError {
    DvError::bad_request(code::BAD_ARGUMENT, message)
}

/// Splits header lines (up to the first blank line) from the rest.
fn headers_and_rest(lines: &[String]) -> (Vec<(String, String)>, &[String]) {
    let mut headers = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            return (headers, &lines[i + 1..]);
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (headers, &[])
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An `application/http` part: request line, headers, body.
fn operation(lines: &[String], outer: &Call) -> Result<Op, DvError> {
    let (part_headers, rest) = headers_and_rest(lines);
    let content_id = find(&part_headers, "content-id").map(str::to_string);
    let mut rest = rest.iter().skip_while(|l| l.trim().is_empty());
    let request_line = rest
        .next()
        .ok_or_else(|| bad("an operation has no request line"))?;
    let mut words = request_line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(bad(format!("bad request line '{request_line}'")));
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| bad("bad method"))?;
    let remaining: Vec<String> = rest.cloned().collect();
    let (http_headers, body) = headers_and_rest(&remaining);
    let body = body.join("\n").trim().to_string();
    let mut headers = HeaderMap::new();
    for (k, v) in &http_headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.append(n, v);
        }
    }
    // The batch's own duplicate-detection header applies to its operations.
    if let Some(v) = outer.headers.get("mscrm.suppressduplicatedetection") {
        headers
            .entry("mscrm.suppressduplicatedetection")
            .or_insert(v.clone());
    }
    // Absolute (`http://org/api/data/v9.2/contacts`), rooted or relative URLs.
    let path = match url.find("/api/data/") {
        Some(i) => &url[i + "/api/data/".len()..],
        None => {
            let rel = url.trim_start_matches('/');
            return op_of(method, &outer.version, rel, headers, body, content_id);
        }
    };
    let (version, rel) = path.split_once('/').unwrap_or((path, ""));
    op_of(method, version, rel, headers, body, content_id)
}

fn op_of(
    method: Method,
    version: &str,
    rel: &str,
    headers: HeaderMap,
    body: String,
    content_id: Option<String>,
) -> Result<Op, DvError> {
    let (resource, query) = rel
        .split_once('?')
        .map_or((rel, None), |(r, q)| (r, Some(q)));
    if !super::version_ok(version) {
        return Err(bad(format!(
            "unknown API version '{version}' in a batch operation"
        )));
    }
    Ok(Op {
        content_id,
        call: Call {
            method,
            version: version.to_string(),
            resource: pct_decode(resource),
            query: parse_query(query),
            headers,
            body: body.into_bytes().into(),
        },
    })
}

fn parse(call: &Call) -> Result<Vec<Item>, DvError> {
    let ct = call.header("content-type").unwrap_or("");
    let b = boundary(ct).ok_or_else(|| {
        bad("The content type of a $batch request must be multipart/mixed with a boundary.")
    })?;
    let text = std::str::from_utf8(&call.body).map_err(|_| bad("the batch body is not UTF-8"))?;
    let mut items = Vec::new();
    for part in parts(text, &b)? {
        let (headers, rest) = headers_and_rest(&part);
        let ty = find(&headers, "content-type").unwrap_or("");
        if let Some(cs) = boundary(ty) {
            let inner = rest.join("\n");
            let mut ops = Vec::new();
            for p in parts(&inner, &cs)? {
                ops.push(operation(&p, call)?);
            }
            items.push(Item::ChangeSet(ops));
        } else if ty.to_ascii_lowercase().starts_with("application/http") {
            items.push(Item::Single(Box::new(operation(&part, call)?)));
        } else {
            return Err(bad(format!("a batch part has content type '{ty}'; expected application/http or multipart/mixed")));
        }
    }
    Ok(items)
}

/// One `application/http` response part.
fn render_part(out: &mut String, boundary: &str, content_id: Option<&str>, r: &Reply) {
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    ));
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let reason = r.status.canonical_reason().unwrap_or("");
    out.push_str(&format!(
        "\r\nHTTP/1.1 {} {reason}\r\nOData-Version: 4.0\r\n",
        r.status.as_u16()
    ));
    for (k, v) in &r.headers {
        let name = match k.as_str() {
            "odata-entityid" => "OData-EntityId",
            "etag" => "ETag",
            "preference-applied" => "Preference-Applied",
            other => other,
        };
        out.push_str(&format!("{name}: {v}\r\n"));
    }
    match r.body_text() {
        Some((ty, body)) => out.push_str(&format!("Content-Type: {ty}\r\n\r\n{body}\r\n")),
        None => out.push_str("\r\n\r\n"),
    }
}

fn failed(r: &Reply) -> bool {
    r.status.is_client_error() || r.status.is_server_error()
}

/// Charges the operations to the service protection windows; a 429 when
/// they do not fit (then nothing is charged to the window that refused).
fn charge(shared: &Shared, n: u32) -> Option<Reply> {
    let now = Instant::now();
    let retry = |d: std::time::Duration| (d.as_secs_f64().ceil() as u64).max(1).to_string();
    if shared.dynamics().batch_counts_operations {
        let verdict = shared.limiter(Api::Dynamics).check_n(now, n);
        if let Some(v) = verdict.filter(|v| !v.allowed) {
            let r = too_many_requests(Some(v.limit)).reply();
            return Some(r.header("retry-after", retry(v.retry_after)));
        }
    }
    let verdict = shared.dynamics_time().check_n(now, n);
    if let Some(v) = verdict.filter(|v| !v.allowed) {
        let r = too_much_time(v.limit.window).reply();
        return Some(r.header("retry-after", retry(v.retry_after)));
    }
    None
}

pub fn run(shared: &Shared, call: &Call) -> (Reply, Option<oneshot::Receiver<()>>) {
    match run_inner(shared, call) {
        Ok(r) => r,
        Err(e) => (e.reply(), None),
    }
}

fn run_inner(
    shared: &Shared,
    call: &Call,
) -> Result<(Reply, Option<oneshot::Receiver<()>>), DvError> {
    if call.method != Method::POST {
        return Err(DvError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_ARGUMENT,
            "The HTTP method is not allowed on $batch; use POST.",
        ));
    }
    let items = parse(call)?;
    let n: usize = items
        .iter()
        .map(|i| match i {
            Item::Single(_) => 1,
            Item::ChangeSet(ops) => ops.len(),
        })
        .sum();
    if n > MAX_OPERATIONS {
        return Err(bad(format!(
            "The number of requests in a batch ({n}) exceeds the limit of {MAX_OPERATIONS}."
        )));
    }
    if let Some(refused) = charge(shared, n as u32) {
        return Ok((refused, None));
    }
    let keep_going = call.prefer().continue_on_error;
    let outer = format!("batchresponse_{}", uuid::Uuid::new_v4().hyphenated());
    let mut out = String::new();
    let mut store = shared.store();
    for item in &items {
        let mut stop = false;
        match item {
            Item::Single(op) => {
                let r = dispatch(shared, &mut store, &op.call);
                render_part(&mut out, &outer, op.content_id.as_deref(), &r);
                stop = failed(&r);
            }
            Item::ChangeSet(ops) => {
                store.dynamics.journal = Some(Vec::new());
                let mut done = Vec::new();
                let mut failure = None;
                for op in ops {
                    let r = dispatch(shared, &mut store, &op.call);
                    if failed(&r) {
                        failure = Some((op.content_id.clone(), r));
                        break;
                    }
                    done.push((op.content_id.clone(), r));
                }
                match failure {
                    Some((id, r)) => {
                        for rid in store.dynamics.rollback() {
                            super::records::persist(&store, &rid);
                        }
                        render_part(&mut out, &outer, id.as_deref(), &r);
                        stop = true;
                    }
                    None => {
                        store.dynamics.journal = None;
                        let inner =
                            format!("changesetresponse_{}", uuid::Uuid::new_v4().hyphenated());
                        out.push_str(&format!(
                            "--{outer}\r\nContent-Type: multipart/mixed; boundary={inner}\r\n\r\n"
                        ));
                        for (id, r) in &done {
                            render_part(&mut out, &inner, id.as_deref(), r);
                        }
                        out.push_str(&format!("--{inner}--\r\n"));
                    }
                }
            }
        }
        if stop && !keep_going {
            break;
        }
    }
    out.push_str(&format!("--{outer}--\r\n"));
    let barrier = store.barrier();
    drop(store);
    let mut reply = Reply::empty(StatusCode::OK);
    reply.raw = Some((format!("multipart/mixed; boundary={outer}"), out));
    if keep_going {
        reply = reply.header("preference-applied", "odata.continue-on-error");
    }
    Ok((reply, barrier))
}
