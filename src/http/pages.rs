//! Fetching every page of a list: GitLab offset pagination (`x-next-page`, empty at the end;
//! when the first page says how many pages there are, `x-total-pages`, the others are asked
//! for at once; without it, above 10,000 rows, one after the other), GitLab keyset pagination
//! (`Link: rel="next"` followed verbatim), and Zendesk cursor pagination (`links.next` until
//! `meta.has_more` is false).

use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ApiClient, ApiError, ApiRequest, ApiResponse};

/// Largest page size both platforms accept.
pub const PER_PAGE: u32 = 100;

/// A safety stop against a server that keeps returning a `next` link.
const MAX_PAGES: usize = 100_000;

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
    next: Option<ApiRequest>,
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
        Ok(GitlabPage {
            items: response.json()?,
            total,
            total_pages,
            base,
            next,
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
            ..
        } = page;
        let Some(mut next) = next else {
            return Ok(items);
        };
        let offset = next.query.iter().any(|(k, _)| k == "page");
        if let (Some(pages), true) = (total_pages, offset)
            && pages > 1
        {
            let pages = pages.min(MAX_PAGES as u64);
            let base = &base;
            let answers = try_join_all((2..=pages).map(|n| async move {
                let response = self.send(base.clone().query("page", n)).await?;
                let items: Vec<T> = response.json()?;
                Ok::<_, ApiError>((items, gitlab_next(&response, base)))
            }))
            .await?;
            let mut after_last = None;
            for (page_items, page_next) in answers {
                items.extend(page_items);
                after_last = page_next;
            }
            match after_last {
                Some(req) => next = req,
                None => return Ok(items),
            }
        }
        for _ in 0..MAX_PAGES {
            let response = self.send(next).await?;
            let page: Vec<T> = response.json()?;
            items.extend(page);
            match gitlab_next(&response, &base) {
                Some(req) => next = req,
                None => return Ok(items),
            }
        }
        Ok(items)
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
        for _ in 0..MAX_PAGES {
            let response = self.send(next).await?;
            let mut page: Value = response.json()?;
            let list = page.get_mut(key).map(Value::take).unwrap_or(Value::Null);
            let list: Vec<T> = match list {
                Value::Null => Vec::new(),
                other => serde_json::from_value(other).map_err(|err| ApiError::Decode {
                    target: Box::new(response.target().clone()),
                    detail: format!("`{key}`: {err}"),
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
                (true, Some(link)) => next = ApiRequest::follow(link, object.clone()),
                _ => return Ok(items),
            }
        }
        Ok(items)
    }
}

/// The request for the page after `response`, if there is one.
fn gitlab_next(response: &ApiResponse, base_req: &ApiRequest) -> Option<ApiRequest> {
    if let Some(page) = response.header("x-next-page") {
        let page = page.trim();
        if page.is_empty() {
            return None;
        }
        return Some(base_req.clone().query("page", page));
    }
    response
        .header("link")
        .and_then(link_next)
        .map(|link| ApiRequest::follow(link, base_req.object().to_string()))
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
