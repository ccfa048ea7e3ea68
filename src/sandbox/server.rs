//! The HTTP side: a loopback listener whose connections can be reset on demand (for the
//! "applied, then the connection dropped" fault), and the one handler that parses a request,
//! finds its instance and route, applies faults, runs the route on the state and logs it.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::serve::IncomingStream;
use jiff::Timestamp;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::Shared;
use super::faults::Decision;
use super::http::{Req, merge_params, percent_decode};
use super::requests::LoggedRequest;
use super::state::{GitLab, Issuer, World, Zendesk};
use super::{gitlab, zendesk};

/// A route: its pattern (for logs and faults) and the work to do on one instance.
pub(crate) struct Route<P> {
    pub pattern: &'static str,
    #[allow(clippy::type_complexity)]
    pub run: Box<dyn FnOnce(&mut P, &mut Issuer, &Req) -> super::http::Reply + Send>,
}

impl<P> Route<P> {
    pub(crate) fn new(
        pattern: &'static str,
        run: impl FnOnce(&mut P, &mut Issuer, &Req) -> super::http::Reply + Send + 'static,
    ) -> Self {
        Route {
            pattern,
            run: Box::new(run),
        }
    }
}

/// A connection that fails every read and write once its kill flag is set.
pub(crate) struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.kill.load(Ordering::Relaxed) {
            #[allow(deprecated)]
            let _ = self.inner.set_linger(Some(std::time::Duration::ZERO));
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "dropped by fault injection",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The per-connection kill switch, handed to the handler as connect info.
#[derive(Clone, Debug)]
pub(crate) struct Conn(Arc<AtomicBool>);

struct KillableListener(TcpListener);

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let _ = inner.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    return (
                        KillableStream {
                            inner,
                            kill: kill.clone(),
                        },
                        Conn(kill),
                    );
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn(Arc::new(AtomicBool::new(false))))
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Serves until `stop` fires.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let app = Router::new().fallback(handle).with_state(shared);
    let _ = axum::serve(
        KillableListener(listener),
        app.into_make_service_with_connect_info::<Conn>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.await;
    })
    .await;
}

/// One simulated platform, as the handler sees it: where its instances live, how a path is
/// routed, and the shapes of its errors and rate-limit headers. The handler is generic over
/// it, so a platform is added by implementing this trait, not by another string compare.
pub(crate) trait SimPlatform: Sized + 'static {
    /// The state of one instance.
    type State: Send + 'static;
    /// The first path segment (`gitlab`, `zendesk`), also the request log's prefix.
    const KEY: &'static str;
    /// The instances of this platform in the world, and the world's value issuer.
    fn instances(world: &mut World) -> (&mut BTreeMap<String, Self::State>, &mut Issuer);
    /// Splits the path after the instance into the API prefix and the segments it routes
    /// on, or `None` when it is not an API path of this platform.
    fn api<'a>(rest: &'a [&'a str]) -> Option<(&'static str, &'a [&'a str])>;
    /// Tidies the decoded segments before routing (Zendesk's optional `.json` suffix).
    fn tidy(_segs: &mut [String]) {}
    /// The route for a request under `api`.
    fn route(api: &str, method: &Method, segs: &[String]) -> Option<Route<Self::State>>;
    /// The answer to a path no route knows.
    fn unrouted(method: &Method, segs: &[String]) -> Response;
    /// An injected 429.
    fn rate_limited(retry_after: u64, now: Timestamp) -> Response;
    /// An injected error.
    fn injected_error(status: u16, now: Timestamp) -> Response;
    /// The rate-limit headers of an answer under a budget `(limit, remaining, reset)`.
    fn rate_limit_headers(resp: Response, budget: (u32, u32, i64)) -> Response;
    /// The headers the platform sends on every answer, given the requests to the instance
    /// in this sandbox minute (none by default).
    fn every_answer(resp: Response, _used_this_minute: u32, _now: Timestamp) -> Response {
        resp
    }
}

/// The simulated GitLab.
pub(crate) struct GitLabSim;

impl SimPlatform for GitLabSim {
    type State = GitLab;
    const KEY: &'static str = "gitlab";
    fn instances(world: &mut World) -> (&mut BTreeMap<String, GitLab>, &mut Issuer) {
        (&mut world.gitlab, &mut world.issuer)
    }
    fn api<'a>(rest: &'a [&'a str]) -> Option<(&'static str, &'a [&'a str])> {
        match rest {
            ["api", "v4", rest @ ..] => Some(("/api/v4", rest)),
            _ => None,
        }
    }
    fn route(_api: &str, method: &Method, segs: &[String]) -> Option<Route<GitLab>> {
        gitlab::route(method, segs)
    }
    fn unrouted(method: &Method, segs: &[String]) -> Response {
        gitlab::unrouted(method, segs)
    }
    fn rate_limited(retry_after: u64, now: Timestamp) -> Response {
        gitlab::rate_limited(retry_after, now)
    }
    fn injected_error(status: u16, now: Timestamp) -> Response {
        gitlab::injected_error(status, now)
    }
    fn rate_limit_headers(resp: Response, budget: (u32, u32, i64)) -> Response {
        gitlab::rate_limit_headers(resp, budget)
    }
}

/// The simulated Zendesk.
pub(crate) struct ZendeskSim;

impl SimPlatform for ZendeskSim {
    type State = Zendesk;
    const KEY: &'static str = "zendesk";
    fn instances(world: &mut World) -> (&mut BTreeMap<String, Zendesk>, &mut Issuer) {
        (&mut world.zendesk, &mut world.issuer)
    }
    fn api<'a>(rest: &'a [&'a str]) -> Option<(&'static str, &'a [&'a str])> {
        match rest {
            ["api", "v2", rest @ ..] => Some(("/api/v2", rest)),
            ["oauth", rest @ ..] => Some(("/oauth", rest)),
            _ => None,
        }
    }
    fn tidy(segs: &mut [String]) {
        if let Some(last) = segs.last_mut()
            && let Some(stripped) = last.strip_suffix(".json")
        {
            *last = stripped.to_string();
        }
    }
    fn route(api: &str, method: &Method, segs: &[String]) -> Option<Route<Zendesk>> {
        if api == "/oauth" {
            zendesk::route_oauth(method, segs)
        } else {
            zendesk::route(method, segs)
        }
    }
    fn unrouted(_method: &Method, _segs: &[String]) -> Response {
        zendesk::not_found_route()
    }
    fn rate_limited(retry_after: u64, _now: Timestamp) -> Response {
        zendesk::rate_limited(retry_after)
    }
    fn injected_error(status: u16, _now: Timestamp) -> Response {
        zendesk::injected_error(status)
    }
    fn rate_limit_headers(resp: Response, budget: (u32, u32, i64)) -> Response {
        zendesk::rate_limit_headers(resp, budget)
    }
    fn every_answer(resp: Response, used: u32, now: Timestamp) -> Response {
        // Zendesk Enterprise's account-wide budget, as `X-Rate-Limit` headers on every
        // answer; an injected budget's own headers take their place.
        const LIMIT: u32 = 700;
        let reset = (now.as_second().div_euclid(60) + 1) * 60;
        zendesk::rate_limit_headers(resp, (LIMIT, LIMIT.saturating_sub(used), reset))
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    let first = request.uri().path().split('/').nth(1).unwrap_or_default();
    if first == super::control::PREFIX {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 64 << 20)
            .await
            .unwrap_or_default();
        let segs: Vec<&str> = parts.uri.path().split('/').skip(2).collect();
        return super::control::handle(&shared, &parts.method, &segs, &body);
    }
    match first {
        GitLabSim::KEY => handle_on::<GitLabSim>(shared, conn, request).await,
        ZendeskSim::KEY => handle_on::<ZendeskSim>(shared, conn, request).await,
        _ => super::http::text(404, "Not Found"),
    }
}

async fn handle_on<P: SimPlatform>(shared: Arc<Shared>, conn: Conn, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let raw: Vec<&str> = parts.uri.path().split('/').skip(1).collect();
    let now = shared.clock.now();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();

    let kind = P::KEY;
    let (instance, api, rest) = match raw.as_slice() {
        [_, inst, after @ ..] => match P::api(after) {
            Some((api, rest)) => (*inst, api, rest),
            None => return super::http::text(404, "Not Found"),
        },
        _ => return super::http::text(404, "Not Found"),
    };
    let instance = percent_decode(instance);
    let mut segs: Vec<String> = rest.iter().map(|s| percent_decode(s)).collect();
    P::tidy(&mut segs);
    let path = format!("{api}/{}", rest.join("/"));
    let base = format!("{}/{kind}/{instance}", shared.origin);
    let req = Req {
        method: parts.method.clone(),
        params: merge_params(&query, &parts.headers, &body),
        segs,
        query,
        headers: parts.headers,
        body,
        now,
        base,
        path: path.clone(),
    };

    let known = {
        let mut world = shared.world.lock().expect("sandbox state lock");
        P::instances(&mut world).0.contains_key(&instance)
    };
    if !known {
        return super::http::text(404, "Not Found");
    }
    let Some(route) = P::route(api, &req.method, &req.segs) else {
        let resp = P::unrouted(&req.method, &req.segs);
        log(
            &shared,
            kind,
            &instance,
            &req,
            "unknown route",
            resp.status().as_u16(),
        );
        return resp;
    };
    let pattern = route.pattern;

    let (latency, decision) = shared.faults.decide(pattern, now);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (drop, budget) = match decision {
        Decision::RateLimited(retry) => {
            log(&shared, kind, &instance, &req, pattern, 429);
            return P::rate_limited(retry, now);
        }
        Decision::Fail(status) => {
            log(&shared, kind, &instance, &req, pattern, status);
            return P::injected_error(status, now);
        }
        Decision::Proceed { drop, budget } => (drop, budget),
    };

    let resp = {
        let mut guard = shared.world.lock().expect("sandbox state lock");
        let (instances, issuer) = P::instances(&mut guard);
        let outcome = match instances.get_mut(&instance) {
            Some(state) => (route.run)(state, issuer, &req),
            None => Err(super::http::text(404, "Not Found")),
        };
        outcome.unwrap_or_else(|e| e)
    };
    if drop {
        conn.0.store(true, Ordering::Relaxed);
        log(&shared, kind, &instance, &req, pattern, 0);
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        return resp;
    }
    log(
        &shared,
        kind,
        &instance,
        &req,
        pattern,
        resp.status().as_u16(),
    );
    match budget {
        Some(b) => P::rate_limit_headers(resp, b),
        None => P::every_answer(
            resp,
            shared.count_minute(&format!("{kind}/{instance}"), now),
            now,
        ),
    }
}

fn log(shared: &Shared, kind: &str, instance: &str, req: &Req, route: &str, status: u16) {
    shared.log.record(LoggedRequest {
        instance: format!("{kind}/{instance}"),
        method: req.method.to_string(),
        route: route.to_string(),
        path: req.path.clone(),
        status,
        at: req.now,
    });
}
