//! Pagination that never ends: a GitLab `x-next-page` that stays on 2, a `Link: rel="next"`
//! back to the same page, and a Zendesk `links.next` pointing at itself fail at once with an
//! error naming the list, instead of running for an hour and returning a cut list.

use std::time::Instant;

use serde_json::json;
use tokenops::gitlab::TokenFilter;
use tokenops::http::ApiError;

use crate::http::server::{Reply, serve};
use crate::http::{fast, gitlab, token_json, zendesk};

fn assert_loop(err: &ApiError, list: &str) {
    let text = err.to_string();
    assert!(matches!(err, ApiError::Pagination { .. }), "{text}");
    assert!(text.contains(list), "{text}");
    assert!(text.contains("does not end"), "{text}");
}

#[tokio::test]
async fn an_offset_list_whose_next_page_never_changes_fails_naming_the_list() {
    let server = serve(|_, i| {
        Reply::json(200, json!([token_json(i as u64 + 1)])).header("x-next-page", "2")
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let started = Instant::now();
    let err = client
        .list_personal_tokens(&TokenFilter::default())
        .await
        .unwrap_err();
    assert_loop(&err, "personal access tokens");
    assert!(err.to_string().contains("page 2"), "{err}");
    // Page 1, then page 2 once; the second "next: 2" stops it.
    assert_eq!(server.count(), 2);
    assert!(started.elapsed().as_secs() < 5);
}

#[tokio::test]
async fn a_next_page_that_goes_back_to_the_first_fails() {
    let server = serve(|_, i| {
        let next = if i == 0 { "2" } else { "1" };
        Reply::json(200, json!([token_json(i as u64 + 1)])).header("x-next-page", next)
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client
        .list_personal_tokens(&TokenFilter::default())
        .await
        .unwrap_err();
    assert_loop(&err, "personal access tokens");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_keyset_link_to_the_same_page_fails() {
    let server = serve(|seen, _| {
        let host = seen.header("host").unwrap();
        Reply::json(
            200,
            json!([{"id": 1, "username": "u", "name": "U", "state": "active"}]),
        )
        .header(
            "link",
            format!("<http://{host}/api/v4/users?id_after=1&per_page=100>; rel=\"next\""),
        )
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client.list_users(None).await.unwrap_err();
    assert_loop(&err, "users");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_zendesk_cursor_pointing_at_itself_fails() {
    let server = serve(|seen, _| {
        let host = seen.header("host").unwrap();
        Reply::json(
            200,
            json!({"webhooks": [], "meta": {"has_more": true, "after_cursor": "same"},
                   "links": {"next": format!("http://{host}/api/v2/webhooks?page%5Bafter%5D=same")}}),
        )
    })
    .await;
    let client = zendesk(&server.origin, None);
    let err = client.list_webhooks(None).await.unwrap_err();
    assert_loop(&err, "webhooks");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_list_that_keeps_announcing_new_pages_stops_at_the_limit_with_an_error() {
    // Every page names a new next page: not a repeat, but no end either.
    let server = serve(|seen, _| {
        let query = seen.uri.split_once('?').map_or("", |(_, q)| q);
        let page: u64 = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        Reply::json(200, json!([])).header("x-next-page", page + 1)
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let started = Instant::now();
    let err = client
        .list_personal_tokens(&TokenFilter::default())
        .await
        .unwrap_err();
    assert_loop(&err, "personal access tokens");
    assert!(err.to_string().contains("10000 pages"), "{err}");
    assert_eq!(server.count(), tokenops::http::pages::MAX_PAGES);
    eprintln!(
        "{} pages of an endless list refused in {:?}",
        server.count(),
        started.elapsed()
    );
}

#[tokio::test]
async fn a_list_announcing_more_pages_than_the_limit_is_refused_before_reading_them() {
    let server = serve(|_, _| {
        Reply::json(200, json!([token_json(1)]))
            .header("x-next-page", "2")
            .header("x-total-pages", "1000000000")
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client
        .list_personal_tokens(&TokenFilter::default())
        .await
        .unwrap_err();
    assert_loop(&err, "personal access tokens");
    assert!(err.to_string().contains("1000000000 pages"), "{err}");
    assert_eq!(server.count(), 1, "only the first page was asked for");
}
