//! Pagination as each platform does it: GitLab's offset pages (`page`, `per_page` capped at
//! 100, `x-*` headers and `Link`) and Zendesk's cursor pages (`page[size]`, `page[after]`,
//! `page[before]`, `meta` and `links`).

use axum::response::Response;
use serde_json::{Value as Json, json};

use super::http::{Req, json as json_reply, with_header};

/// GitLab drops `x-total`, `x-total-pages` and `rel="last"` above this many records.
const GITLAB_TOTAL_LIMIT: usize = 10_000;

/// One page of `items` with GitLab's headers.
pub(crate) fn gitlab_page(req: &Req, items: Vec<Json>) -> Response {
    let per_page = req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(20)
        .min(100);
    let page = req
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(1);
    let total = items.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(total);
    let end = (start + per_page).min(total);
    let body: Vec<Json> = items.into_iter().skip(start).take(end - start).collect();
    let next = (end < total).then(|| page + 1);
    let prev = (page > 1).then(|| page - 1);
    let show_total = total <= GITLAB_TOTAL_LIMIT;

    let link_to = |p: usize| -> String {
        let mut pairs: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .cloned()
            .collect();
        pairs.push(("page".into(), p.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}{}?{}", req.base, req.path, query)
    };
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!("<{}>; rel=\"prev\"", link_to(p)));
    }
    if let Some(p) = next {
        links.push(format!("<{}>; rel=\"next\"", link_to(p)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    if show_total {
        links.push(format!("<{}>; rel=\"last\"", link_to(total_pages)));
    }

    let mut resp = json_reply(200, Json::Array(body));
    resp = with_header(resp, "x-page", &page.to_string());
    resp = with_header(resp, "x-per-page", &per_page.to_string());
    resp = with_header(
        resp,
        "x-next-page",
        &next.map(|p| p.to_string()).unwrap_or_default(),
    );
    resp = with_header(
        resp,
        "x-prev-page",
        &prev.map(|p| p.to_string()).unwrap_or_default(),
    );
    if show_total {
        resp = with_header(resp, "x-total", &total.to_string());
        resp = with_header(resp, "x-total-pages", &total_pages.to_string());
    }
    with_header(resp, "link", &links.join(", "))
}

/// One cursor page of `items` (each paired with its stable, sortable key) under `key`.
/// Cursors are opaque to clients; here they encode the key of the boundary item.
pub(crate) fn zendesk_cursor_page(req: &Req, key: &str, items: Vec<(String, Json)>) -> Response {
    let size = req
        .query("page[size]")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(100)
        .min(100);
    let after = req.query("page[after]").and_then(decode_cursor);
    let before = req.query("page[before]").and_then(decode_cursor);
    let (start, end) = if let Some(b) = before {
        let end = items
            .iter()
            .position(|(k, _)| *k >= b)
            .unwrap_or(items.len());
        (end.saturating_sub(size), end)
    } else {
        let start = match after {
            Some(a) => items
                .iter()
                .position(|(k, _)| *k > a)
                .unwrap_or(items.len()),
            None => 0,
        };
        (start, (start + size).min(items.len()))
    };
    let page = &items[start..end];
    let has_more = end < items.len();
    let after_cursor = page.last().map(|(k, _)| encode_cursor(k));
    let before_cursor = page.first().map(|(k, _)| encode_cursor(k));
    // Every other parameter (filters, `sort`, `all`, `client_id`) is kept, as Zendesk does.
    let link = |param: &str, cursor: &str| {
        let mut pairs = kept_query(req, &["page[size]", "page[after]", "page[before]"]);
        pairs.push(("page[size]".into(), size.to_string()));
        pairs.push((format!("page[{param}]"), cursor.to_string()));
        format!("{}{}?{}", req.base, req.path, encode_query(pairs))
    };
    let next = match (&after_cursor, has_more) {
        (Some(c), true) => Json::String(link("after", c)),
        _ => Json::Null,
    };
    let prev = match (&before_cursor, start > 0) {
        (Some(c), true) => Json::String(link("before", c)),
        _ => Json::Null,
    };
    let body = json!({
        key: page.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
        "links": {"next": next, "prev": prev},
    });
    json_reply(200, body)
}

/// The request's query pairs without `drop`, in their order.
pub(crate) fn kept_query(req: &Req, drop: &[&str]) -> Vec<(String, String)> {
    req.query
        .iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// Query pairs, form-encoded.
pub(crate) fn encode_query(pairs: Vec<(String, String)>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn encode_cursor(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<String> {
    if !cursor.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str) -> Req {
        Req {
            method: axum::http::Method::GET,
            segs: vec![],
            query: url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers: Default::default(),
            body: Default::default(),
            params: Default::default(),
            now: jiff::Timestamp::UNIX_EPOCH,
            base: "http://127.0.0.1:1/gitlab/g".into(),
            path: "/api/v4/things".into(),
        }
    }

    #[test]
    fn gitlab_drops_totals_above_ten_thousand_records() {
        let items: Vec<Json> = (0..10_001).map(|n| json!(n)).collect();
        let resp = gitlab_page(&req("per_page=100"), items);
        assert!(resp.headers().get("x-total").is_none());
        assert!(resp.headers().get("x-total-pages").is_none());
        let link = resp.headers()["link"].to_str().unwrap();
        assert!(link.contains("rel=\"next\""));
        assert!(!link.contains("rel=\"last\""));
        let small: Vec<Json> = (0..10_000).map(|n| json!(n)).collect();
        let resp = gitlab_page(&req("per_page=100"), small);
        assert_eq!(resp.headers()["x-total"], "10000");
    }

    #[test]
    fn zendesk_next_link_keeps_every_filter() {
        let items: Vec<(String, Json)> = (0..250).map(|n| (format!("{n:05}"), json!(n))).collect();
        let resp = zendesk_cursor_page(
            &req("all=true&client_id=7&filter%5Bname_contains%5D=a+b&sort=name&page%5Bsize%5D=100"),
            "things",
            items,
        );
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX);
        let body = futures_util::FutureExt::now_or_never(body)
            .unwrap()
            .unwrap();
        let doc: Json = serde_json::from_slice(&body).unwrap();
        let next = doc["links"]["next"].as_str().unwrap();
        let url = url::Url::parse(next).unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        for (k, v) in [
            ("all", "true"),
            ("client_id", "7"),
            ("filter[name_contains]", "a b"),
            ("sort", "name"),
            ("page[size]", "100"),
        ] {
            assert!(q.contains(&(k.into(), v.into())), "{k} kept in {next}");
        }
    }

    #[test]
    fn zendesk_cursors_round_trip() {
        let key = "01J00000000001ABCDEF";
        assert_eq!(decode_cursor(&encode_cursor(key)).as_deref(), Some(key));
        assert_eq!(decode_cursor("zz"), None);
    }
}
