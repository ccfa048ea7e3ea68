//! Fetching every page of a list: GitLab offset pagination (`x-next-page`, empty at the end;
//! when the first page says how many pages there are, `x-total-pages`, the others are asked
//! for at once; without it, above 10,000 rows, one after the other), GitLab keyset pagination
//! (`Link: rel="next"` followed verbatim), and Zendesk cursor pagination (`links.next` until
//! `meta.has_more` is false). A page number, link or cursor that comes back a second time,
//! or a list longer than [`MAX_PAGES`], is an error naming the list, never a silent cut.

use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ApiClient, ApiError, ApiRequest, ApiResponse};

/// Largest page size both platforms accept.
pub const PER_PAGE: u32 = 100;

/// A safety stop against a server that keeps returning new `next` links: one million items.
pub const MAX_PAGES: usize = 10_000;

/// The `next` pointers already followed in one list.
struct Seen {
    pointers: std::collections::HashSet<String>,
    pages: usize,
}

impl Seen {
    fn new(first: String) -> Seen {
        Seen {
            pointers: std::iter::once(first).collect(),
            pages: 0,
        }
    }

    /// Counts one more page read; fails past the limit.
    fn page(&mut self, response: &ApiResponse) -> Result<(), ApiError> {
        self.pages += 1;
        if self.pages >= MAX_PAGES {
            return Err(ApiError::Pagination {
                target: Box::new(response.target().clone()),
                detail: format!("still a `next` after {MAX_PAGES} pages"),
            });
        }
        Ok(())
    }

    /// Records `pointer` (what the next request is keyed by); fails when it was seen.
    fn next(
        &mut self,
        response: &ApiResponse,
        what: &str,
        pointer: String,
    ) -> Result<(), ApiError> {
        if self.pointers.insert(pointer.clone()) {
            return Ok(());
        }
        Err(ApiError::Pagination {
            target: Box::new(response.target().clone()),
            detail: format!(
                "after page {} the {what} points at {} again",
                self.pages,
                response.shown(&pointer)
            ),
        })
    }
}

/// The `rel="next"` target of an RFC 8288 `Link` header.
pub fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if is_next {
            return Some(target.to_string());
        }
        rest = &after[params_end..];
    }
    None
}

/// The first page of a GitLab list and what its headers say about the rest.
#[derive(Debug)]
pub struct GitlabPage<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Items in the whole list (`x-total`; absent above 10,000 rows and on keyset lists).
    pub total: Option<u64>,
    /// Pages in the whole list (`x-total-pages`, same caveats).
    pub total_pages: Option<u64>,
    base: ApiRequest,
    next: Option<(ApiRequest, String, &'static str)>,
    first_pointer: String,
}

impl<T> GitlabPage<T> {
    /// Requests it takes to read the rest of the list: exact when the totals are known, else
    /// at least one when there is a next page.
    pub fn pages_left(&self) -> u64 {
        match (self.total_pages, &self.next) {
            (Some(pages), _) => pages.saturating_sub(1),
            (None, Some(_)) => 1,
            (None, None) => 0,
        }
    }
}

impl ApiClient {
    /// Every item of a GitLab list. `first` is the first request: for offset lists the client
    /// adds `per_page=100`; for keyset lists pass `pagination=keyset`, `order_by` and `sort`
    /// yourself. See [`ApiClient::gitlab_rest`] for how the other pages are read.
    pub async fn gitlab_all<T: DeserializeOwned>(
        &self,
        first: ApiRequest,
    ) -> Result<Vec<T>, ApiError> {
        let page = self.gitlab_first_page(first).await?;
        self.gitlab_rest(page).await
    }

    /// The first page of a GitLab list (`per_page=100` added), with its totals.
    pub async fn gitlab_first_page<T: DeserializeOwned>(
        &self,
        first: ApiRequest,
    ) -> Result<GitlabPage<T>, ApiError> {
        let base = first.query("per_page", PER_PAGE);
        let response = self.send(base.clone()).await?;
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse().ok());
        let (total, total_pages) = (number("x-total"), number("x-total-pages"));
        let next = gitlab_next(&response, &base);
        let first_pointer = format!(
            "page {}",
            base.query
                .iter()
                .find(|(k, _)| k == "page")
                .map_or("1".to_string(), |(_, v)| page_key(v))
        );
        if let Some((_, pointer, what)) = &next
            && *pointer == first_pointer
        {
            let mut seen = Seen::new(first_pointer.clone());
            seen.next(&response, what, pointer.clone())?;
        }
        Ok(GitlabPage {
            items: response.json()?,
            total,
            total_pages,
            base,
            next,
            first_pointer,
        })
    }

    /// The whole list from its first page. When the first page gave `x-total-pages` and an
    /// offset `x-next-page`, the other pages are asked for at once (the client's concurrency
    /// limit still applies) and joined in order; otherwise, and past the announced last page
    /// should the list have grown, pages follow `x-next-page`, else `Link: rel="next"`, until
    /// neither says there is more.
    pub async fn gitlab_rest<T: DeserializeOwned>(
        &self,
        page: GitlabPage<T>,
    ) -> Result<Vec<T>, ApiError> {
        let GitlabPage {
            mut items,
            total_pages,
            base,
            next,
            first_pointer,
            ..
        } = page;
        let Some((mut next, pointer, _)) = next else {
            return Ok(items);
        };
        let mut seen = Seen::new(first_pointer);
        // The first page was read already.
        seen.pages = 1;
        seen.pointers.insert(pointer);
        let offset = next.query.iter().any(|(k, _)| k == "page");
        if let (Some(pages), true) = (total_pages, offset)
            && pages > 1
        {
            if pages >= MAX_PAGES as u64 {
                // Refused before asking for any of them, not after ten thousand requests.
                return Err(ApiError::Pagination {
                    target: Box::new(self.target(&base.method, base.object())),
                    detail: format!(
                        "`x-total-pages` announces {pages} pages, more than the {MAX_PAGES} read"
                    ),
                });
            }
            let base = &base;
            let answers = try_join_all((2..=pages).map(|n| async move {
                let response = self.send(base.clone().query("page", n)).await?;
                let items: Vec<T> = response.json()?;
                let next = gitlab_next(&response, base);
                Ok::<_, ApiError>((items, next, response))
            }))
            .await?;
            for n in 2..=pages {
                seen.pointers.insert(format!("page {n}"));
            }
            seen.pages = pages as usize;
            let mut after_last = None;
            for (page_items, page_next, response) in answers {
                items.extend(page_items);
                after_last = page_next.map(|n| (n, response));
            }
            match after_last {
                Some(((req, pointer, what), response)) => {
                    seen.next(&response, what, pointer)?;
                    next = req;
                }
                None => return Ok(items),
            }
        }
        loop {
            let response = self.send(next).await?;
            seen.page(&response)?;
            let page: Vec<T> = response.json()?;
            items.extend(page);
            match gitlab_next(&response, &base) {
                Some((req, pointer, what)) => {
                    seen.next(&response, what, pointer)?;
                    next = req;
                }
                None => return Ok(items),
            }
        }
    }

    /// Every item of a Zendesk cursor-paginated list: `first` gets `page[size]=100`, items are
    /// read from `key`, and `links.next` is followed while `meta.has_more` is true.
    pub async fn zendesk_all<T: DeserializeOwned>(
        &self,
        first: ApiRequest,
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let object = first.object().to_string();
        let mut next = first.query("page[size]", PER_PAGE);
        let mut items = Vec::new();
        let mut seen = Seen::new(String::new());
        loop {
            let response = self.send(next).await?;
            seen.page(&response)?;
            let mut page: Value = response.json()?;
            let list = page.get_mut(key).map(Value::take).unwrap_or(Value::Null);
            let list: Vec<T> = match list {
                Value::Null => Vec::new(),
                other => serde_json::from_value(other).map_err(|err| ApiError::Decode {
                    target: Box::new(response.target().clone()),
                    detail: format!(
                        "`{key}`: {}",
                        response.shown(&super::decode::without_quoted_values(&err.to_string()))
                    ),
                })?,
            };
            items.extend(list);
            let has_more = page
                .pointer("/meta/has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let link = page
                .pointer("/links/next")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            match (has_more, link) {
                (true, Some(link)) => {
                    seen.next(&response, "`links.next`", link.to_string())?;
                    next = ApiRequest::follow(link, object.clone());
                }
                _ => return Ok(items),
            }
        }
    }
}

/// A page number as a key: `02` and `2` are the same page.
fn page_key(page: &str) -> String {
    let page = page.trim();
    page.parse::<u64>()
        .map_or_else(|_| page.to_string(), |n| n.to_string())
}

/// The request for the page after `response`, if there is one, with the pointer it is keyed
/// by and what the pointer is called.
fn gitlab_next(
    response: &ApiResponse,
    base_req: &ApiRequest,
) -> Option<(ApiRequest, String, &'static str)> {
    if let Some(page) = response.header("x-next-page") {
        let page = page.trim();
        if page.is_empty() {
            return None;
        }
        return Some((
            base_req.clone().query("page", page),
            format!("page {}", page_key(page)),
            "`x-next-page` header",
        ));
    }
    response.header("link").and_then(link_next).map(|link| {
        (
            ApiRequest::follow(link.clone(), base_req.object().to_string()),
            link,
            "`Link: rel=\"next\"` header",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let h = r#"<https://g/api/v4/projects?id_after=42&per_page=100>; rel="next", <https://g/api/v4/projects?per_page=100>; rel="first""#;
        assert_eq!(
            link_next(h).as_deref(),
            Some("https://g/api/v4/projects?id_after=42&per_page=100")
        );
        let only_prev = r#"<https://g/a?page=1>; rel="prev", <https://g/a?page=1>; rel="first""#;
        assert_eq!(link_next(only_prev), None);
        assert_eq!(link_next(""), None);
    }
}
