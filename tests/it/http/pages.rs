//! Pagination to the end: GitLab offset with totals (the other pages at once) and without
//! `x-total`, GitLab keyset, Zendesk cursor.

use serde_json::json;
use tokenops::gitlab::{TokenFilter, TokenState};
use tokenops::http::ApiError;

use super::server::{Reply, serve};
use super::{fast, gitlab, token_json, zendesk};

fn query_param(uri: &str, key: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.to_string())
}

#[tokio::test]
async fn offset_pages_are_followed_past_ten_thousand_rows_without_totals() {
    const ROWS: u64 = 10_050;
    let server = serve(|seen, _| {
        let page: u64 = query_param(&seen.uri, "page")
            .map(|p| p.parse().unwrap())
            .unwrap_or(1);
        let per_page: u64 = query_param(&seen.uri, "per_page").unwrap().parse().unwrap();
        let start = (page - 1) * per_page;
        let end = (start + per_page).min(ROWS);
        let items: Vec<_> = (start..end).map(|i| token_json(i + 1)).collect();
        let next = if end < ROWS {
            (page + 1).to_string()
        } else {
            String::new()
        };
        // No x-total / x-total-pages: GitLab drops them above 10,000 rows.
        Reply::json(200, json!(items))
            .header("x-next-page", next)
            .header("x-page", page)
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let filter = TokenFilter {
        state: Some(TokenState::Active),
        ..TokenFilter::default()
    };
    let tokens = client.list_personal_tokens(&filter).await.unwrap();
    assert_eq!(tokens.len() as u64, ROWS);
    assert!(tokens.iter().enumerate().all(|(i, t)| t.id == i as u64 + 1));
    let requests = server.requests();
    assert_eq!(requests.len(), 101);
    for seen in &requests {
        assert!(
            seen.uri.starts_with("/api/v4/personal_access_tokens?"),
            "{}",
            seen.uri
        );
        assert_eq!(query_param(&seen.uri, "per_page").as_deref(), Some("100"));
        assert_eq!(query_param(&seen.uri, "state").as_deref(), Some("active"));
    }
}

#[tokio::test]
async fn offset_pages_with_totals_are_asked_for_at_once_and_joined_in_order() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    const ROWS: u64 = 750;
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = arrivals.clone();
    let server = serve(move |seen, _| {
        log.lock().unwrap().push(Instant::now());
        let page: u64 = query_param(&seen.uri, "page")
            .map(|p| p.parse().unwrap())
            .unwrap_or(1);
        let start = (page - 1) * 100;
        let end = (start + 100).min(ROWS);
        let items: Vec<_> = (start..end).map(|i| token_json(i + 1)).collect();
        let next = if end < ROWS {
            (page + 1).to_string()
        } else {
            String::new()
        };
        // Earlier pages answer last: the join must keep page order anyway.
        let delay = Duration::from_millis(10 * (9 - page.min(9)));
        Reply::json(200, json!(items))
            .header("x-next-page", next)
            .header("x-total", ROWS)
            .header("x-total-pages", ROWS.div_ceil(100))
            .after(delay)
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let tokens = client
        .list_personal_tokens(&TokenFilter::default())
        .await
        .unwrap();
    assert_eq!(tokens.len() as u64, ROWS);
    assert!(tokens.iter().enumerate().all(|(i, t)| t.id == i as u64 + 1));
    assert_eq!(server.count(), 8);
    // One after the other, pages 2 to 8 would arrive at least 270 ms apart (the delays of
    // pages 2 to 7).
    let arrivals = arrivals.lock().unwrap();
    let spread = arrivals[7].duration_since(arrivals[1]);
    assert!(spread < Duration::from_millis(150), "{spread:?}");
}

#[tokio::test]
async fn keyset_next_links_are_followed_verbatim_under_a_path_prefix() {
    let server = serve(|seen, _| {
        assert!(seen.uri.starts_with("/gitlab/gitlab.com/api/v4/users?"), "{}", seen.uri);
        let after: u64 = query_param(&seen.uri, "id_after")
            .map(|v| v.parse().unwrap())
            .unwrap_or(0);
        let users: Vec<_> = (after + 1..=(after + 2).min(5))
            .map(|id| json!({"id": id, "username": format!("u{id}"), "name": "U"}))
            .collect();
        let mut reply = Reply::json(200, json!(users));
        let last = users.last().map(|u| u["id"].as_u64().unwrap()).unwrap_or(5);
        if last < 5 {
            let host = seen.header("host").unwrap();
            reply = reply.header(
                "link",
                format!(
                    "<http://{host}/gitlab/gitlab.com/api/v4/users?id_after={last}&order_by=id&pagination=keyset&per_page=100&sort=asc&cursor=opaque{last}>; rel=\"next\", <http://{host}/gitlab/gitlab.com/api/v4/users?order_by=id>; rel=\"first\""
                ),
            );
        }
        reply
    })
    .await;
    let (client, _) = gitlab(&format!("{}/gitlab/gitlab.com/", server.origin), fast());
    let users = client.list_users(None).await.unwrap();
    let ids: Vec<u64> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        query_param(&requests[0].uri, "pagination").as_deref(),
        Some("keyset")
    );
    assert_eq!(
        query_param(&requests[2].uri, "cursor").as_deref(),
        Some("opaque4")
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    let server = serve(|_, _| {
        Reply::json(200, json!([])).header(
            "link",
            "<https://evil.example/api/v4/users?page=2>; rel=\"next\"",
        )
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let err = client.list_users(None).await.unwrap_err();
    assert!(matches!(err, ApiError::InsecureUrl { .. }), "{err}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn zendesk_cursor_pages_until_has_more_is_false() {
    let server = serve(|seen, index| {
        let host = seen.header("host").unwrap();
        let after = query_param(&seen.uri, "page[after]");
        assert_eq!(query_param(&seen.uri, "page[size]").as_deref(), Some("100"));
        let page = match after.as_deref() {
            None => 0,
            Some("c1") => 1,
            Some("c2") => 2,
            other => panic!("unexpected cursor {other:?} at request {index}"),
        };
        let hooks: Vec<_> = (0..3)
            .map(|i| {
                json!({"id": format!("01H{page}{i}"), "name": "hook", "endpoint": "https://x",
                            "authentication": {"type": "bearer_token", "add_position": "header"}})
            })
            .collect();
        let more = page < 2;
        let next = more.then(|| {
            format!(
                "http://{host}/api/v2/webhooks?page%5Bsize%5D=100&page%5Bafter%5D=c{}",
                page + 1
            )
        });
        Reply::json(
            200,
            json!({"webhooks": hooks, "meta": {"has_more": more, "after_cursor": "x"},
                   "links": {"next": next, "prev": null}}),
        )
    })
    .await;
    let client = zendesk(&server.origin, None);
    let hooks = client.list_webhooks(Some("hook")).await.unwrap();
    assert_eq!(hooks.len(), 9);
    assert_eq!(hooks[8].id, "01H22");
    assert_eq!(server.count(), 3);
    let first = &server.requests()[0];
    assert_eq!(
        query_param(&first.uri, "filter[name_contains]").as_deref(),
        Some("hook")
    );
}
