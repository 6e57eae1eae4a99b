//! `POST $batch` bodies and answers (OData v4 multipart/mixed): one
//! `application/http` part per operation, no change sets (each upsert
//! succeeds or fails alone under `Prefer: odata.continue-on-error`), and
//! the answer's parts read back in order. Pure functions of text, so the
//! parser is tested without a server.

use crate::crm::error::ConnectorError;

/// One operation of a batch.
pub struct Operation {
    pub method: &'static str,
    /// Relative to the Web API root (`contacts(outpost_key='k')`).
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

/// The request body for `operations` between `--{boundary}` lines, and
/// its content type.
pub fn body(boundary: &str, api_root: &str, operations: &[Operation]) -> (String, String) {
    let mut out = String::new();
    for (i, op) in operations.iter().enumerate() {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n",
            i + 1
        ));
        out.push_str(&format!(
            "{} {}/{} HTTP/1.1\r\n",
            op.method,
            api_root.trim_end_matches('/'),
            op.path
        ));
        for (name, value) in &op.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        match &op.body {
            Some(b) => out.push_str(&format!(
                "Content-Type: application/json; type=entry\r\n\r\n{b}\r\n"
            )),
            None => out.push_str("\r\n"),
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    (out, format!("multipart/mixed; boundary={boundary}"))
}

/// One operation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `boundary` parameter of a multipart content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn protocol(what: impl Into<String>) -> ConnectorError {
    ConnectorError::Protocol(format!("unreadable $batch answer: {}", what.into()))
}

/// The parts between `--boundary` lines (text after the closing one is ignored).
fn parts<'a>(text: &'a str, boundary: &str) -> Result<Vec<&'a str>, ConnectorError> {
    let open = format!("--{boundary}");
    let mut out = Vec::new();
    let mut rest = text;
    let start = rest
        .find(&open)
        .ok_or_else(|| protocol("no opening boundary"))?;
    rest = &rest[start + open.len()..];
    loop {
        if rest.starts_with("--") {
            return Ok(out);
        }
        let end = rest
            .find(&open)
            .ok_or_else(|| protocol("no closing boundary (cut short?)"))?;
        out.push(rest[..end].trim_start_matches(['\r', '\n']));
        rest = &rest[end + open.len()..];
    }
}

/// Splits a head from its body at the first empty line.
fn split_head(part: &str) -> (&str, &str) {
    for sep in ["\r\n\r\n", "\n\n"] {
        if let Some(i) = part.find(sep) {
            return (&part[..i], &part[i + sep.len()..]);
        }
    }
    (part, "")
}

fn header_lines(head: &str) -> Vec<(String, String)> {
    head.lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

/// The answers of a `$batch` response, in order; a change set's answers
/// are flattened in place.
pub fn parse(content_type: &str, text: &str) -> Result<Vec<Answer>, ConnectorError> {
    let b = boundary(content_type).ok_or_else(|| protocol("not multipart/mixed"))?;
    let mut out = Vec::new();
    for part in parts(text, &b)? {
        let (mime, inner) = split_head(part);
        let mime = header_lines(mime);
        let ty = mime
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if boundary(ty).is_some() {
            out.extend(parse(ty, inner)?);
            continue;
        }
        let (head, body) = split_head(inner);
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| status_line.starts_with("HTTP/"))
            .ok_or_else(|| protocol(format!("status line {status_line:?}")))?;
        out.push(Answer {
            status,
            headers: header_lines(&lines.collect::<Vec<_>>().join("\n")),
            body: body.trim_end_matches(['\r', '\n']).to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_has_one_part_per_operation() {
        let ops = [Operation {
            method: "PATCH",
            path: "contacts(outpost_key='k')".into(),
            headers: vec![("If-None-Match", "null".into())],
            body: Some(r#"{"lastname":"Lee"}"#.into()),
        }];
        let (body, ty) = body("batch_x", "http://h/api/data/v9.2", &ops);
        assert_eq!(ty, "multipart/mixed; boundary=batch_x");
        assert!(
            body.contains("PATCH http://h/api/data/v9.2/contacts(outpost_key='k') HTTP/1.1\r\n")
        );
        assert!(body.contains("\r\n\r\n{\"lastname\":\"Lee\"}\r\n--batch_x--\r\n"));
        assert!(body.starts_with("--batch_x\r\nContent-Type: application/http\r\n"));
    }

    #[test]
    fn answers_are_read_in_order_with_change_sets_flattened() {
        let text = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nOData-EntityId: http://h/api/data/v9.2/contacts(0d1c9b7e-0000-0000-0000-000000000001)\r\n\r\n\r\n--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n{\"error\":{\"code\":\"0x80040200\",\"message\":\"lastname\"}}\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n";
        let a = parse("multipart/mixed; boundary=batchresponse_1", text).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].status, 204);
        assert!(a[0].header("OData-EntityId").unwrap().ends_with("0001)"));
        assert_eq!(a[1].status, 400);
        assert!(a[1].body.starts_with("{\"error\""));
        assert!(parse("multipart/mixed; boundary=batchresponse_1", &text[..120]).is_err());
        assert!(parse("application/json", "{}").is_err());
        assert_eq!(
            boundary("multipart/mixed; boundary=\"b\"").as_deref(),
            Some("b")
        );
    }
}
