//! The request budget and the concurrency limit, measured at the server on a manual clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokenops::http::Clock;

use super::server::{Reply, serve};
use super::{fast, gitlab};

#[tokio::test]
async fn the_budget_holds_in_every_sixty_second_window() {
    const BUDGET: u32 = 10;
    const REQUESTS: usize = 35;
    let arrivals: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let clock_slot: Arc<Mutex<Option<Arc<dyn Clock>>>> = Arc::default();
    let (log, slot) = (arrivals.clone(), clock_slot.clone());
    let server = serve(move |_, _| {
        let now = slot.lock().unwrap().as_ref().unwrap().elapsed();
        log.lock().unwrap().push(now);
        Reply::json(200, json!({"id": 1, "username": "ops-bot"}))
    })
    .await;
    let mut settings = fast();
    settings.requests_per_minute = BUDGET;
    settings.concurrency = 1;
    let (client, clock) = gitlab(&server.origin, settings);
    *clock_slot.lock().unwrap() = Some(clock.clone());
    let calls = (0..REQUESTS).map(|_| client.current_user());
    for result in futures_join(calls).await {
        result.unwrap();
    }
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), REQUESTS);
    for (i, at) in arrivals.iter().enumerate() {
        let in_window = arrivals[..=i]
            .iter()
            .filter(|t| **t + Duration::from_secs(60) > *at)
            .count();
        assert!(
            in_window <= BUDGET as usize,
            "{in_window} requests in the minute before {at:?}"
        );
    }
    // 35 requests at 10 per minute: the last one cannot go before minute 3.
    assert!(*arrivals.last().unwrap() >= Duration::from_secs(180));
}

/// Runs futures concurrently on the current task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_the_concurrency_allows() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, top) = (in_flight.clone(), peak.clone());
    let server = serve(move |_, _| {
        let current = now.fetch_add(1, Ordering::SeqCst) + 1;
        top.fetch_max(current, Ordering::SeqCst);
        Reply::json(200, json!({"id": 1, "username": "ops-bot"})).after(Duration::from_millis(40))
    })
    .await;
    // The script runs before the delay; count down when each answer is sent.
    let mut settings = fast();
    settings.concurrency = 3;
    let (client, _) = gitlab(&server.origin, settings);
    let done = in_flight.clone();
    let calls = (0..12).map(|_| {
        let client = client.clone();
        let done = done.clone();
        async move {
            let result = client.current_user().await;
            done.fetch_sub(1, Ordering::SeqCst);
            result
        }
    });
    for result in futures_join(calls).await {
        result.unwrap();
    }
    assert_eq!(server.count(), 12);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} requests in flight with a limit of 3");
    assert!(peak >= 2, "requests were not sent in parallel at all");
}
