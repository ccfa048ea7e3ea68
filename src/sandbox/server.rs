//! The HTTP side: a loopback listener whose connections can be reset on demand (for the
//! "applied, then the connection dropped" fault), and the one handler that parses a request,
//! finds its instance and route, applies faults, runs the route on the state and logs it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::Shared;
use super::faults::Decision;
use super::http::{Req, merge_params, percent_decode};
use super::requests::LoggedRequest;
use super::state::{GitLab, Issuer, Zendesk};
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

enum Target {
    GitLab(String, Route<GitLab>),
    Zendesk(String, Route<Zendesk>),
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
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

    let (kind, instance, api, rest) = match raw.as_slice() {
        ["gitlab", inst, "api", "v4", rest @ ..] => ("gitlab", *inst, "/api/v4", rest),
        ["zendesk", inst, "api", "v2", rest @ ..] => ("zendesk", *inst, "/api/v2", rest),
        ["zendesk", inst, "oauth", rest @ ..] => ("zendesk", *inst, "/oauth", rest),
        _ => return super::http::text(404, "Not Found"),
    };
    let instance = percent_decode(instance);
    let mut segs: Vec<String> = rest.iter().map(|s| percent_decode(s)).collect();
    if kind == "zendesk"
        && let Some(last) = segs.last_mut()
        && let Some(stripped) = last.strip_suffix(".json")
    {
        *last = stripped.to_string();
    }
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
        let world = shared.world.lock().expect("sandbox state lock");
        if kind == "gitlab" {
            world.gitlab.contains_key(&instance)
        } else {
            world.zendesk.contains_key(&instance)
        }
    };
    if !known {
        return super::http::text(404, "Not Found");
    }
    let target = if kind == "gitlab" {
        gitlab::route(&req.method, &req.segs).map(|r| Target::GitLab(instance.clone(), r))
    } else if api == "/oauth" {
        zendesk::route_oauth(&req.method, &req.segs).map(|r| Target::Zendesk(instance.clone(), r))
    } else {
        zendesk::route(&req.method, &req.segs).map(|r| Target::Zendesk(instance.clone(), r))
    };
    let Some(target) = target else {
        let resp = if kind == "gitlab" {
            gitlab::unrouted(&req.method, &req.segs)
        } else {
            zendesk::not_found_route()
        };
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
    let pattern = match &target {
        Target::GitLab(_, r) => r.pattern,
        Target::Zendesk(_, r) => r.pattern,
    };

    let (latency, decision) = shared.faults.decide(pattern, now);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (drop, budget) = match decision {
        Decision::RateLimited(retry) => {
            let resp = if kind == "gitlab" {
                gitlab::rate_limited(retry, now)
            } else {
                zendesk::rate_limited(retry)
            };
            log(&shared, kind, &instance, &req, pattern, 429);
            return resp;
        }
        Decision::Fail(status) => {
            let resp = if kind == "gitlab" {
                gitlab::injected_error(status, now)
            } else {
                zendesk::injected_error(status)
            };
            log(&shared, kind, &instance, &req, pattern, status);
            return resp;
        }
        Decision::Proceed { drop, budget } => (drop, budget),
    };

    let resp = {
        let mut guard = shared.world.lock().expect("sandbox state lock");
        let world = &mut *guard;
        let outcome = match target {
            Target::GitLab(name, route) => match world.gitlab.get_mut(&name) {
                Some(gl) => (route.run)(gl, &mut world.issuer, &req),
                None => Err(super::http::text(404, "Not Found")),
            },
            Target::Zendesk(name, route) => match world.zendesk.get_mut(&name) {
                Some(zd) => (route.run)(zd, &mut world.issuer, &req),
                None => Err(super::http::text(404, "Not Found")),
            },
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
        Some(b) if kind == "gitlab" => gitlab::rate_limit_headers(resp, b),
        Some(b) => zendesk::rate_limit_headers(resp, b),
        None => resp,
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
