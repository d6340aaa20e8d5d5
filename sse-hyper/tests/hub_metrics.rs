//! The hub's figures through its library API: `metrics_text`, an
//! application's own registry, channels labelled only when listed, and
//! nothing served with metrics off.
#![cfg(feature = "hub")]

use std::task::{Context, Poll, Waker};

use prometheus_client::registry::Registry;
use sse_hyper::hub::{ClientInfo, Hub, HubConfig};
use sse_proto::Event;
use sse_proto::publisher::Publisher;
use sse_testkit::rt::KitRuntime;

fn drain(subscription: &mut sse_proto::publisher::Subscription<ClientInfo>) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut n = 0;
    while let Poll::Ready(Some(_)) = subscription.poll_next(&mut cx) {
        n += 1;
    }
    n
}

fn info(channel: &str) -> ClientInfo {
    let parts = http::Request::get("/events")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    ClientInfo::from_parts(&parts, vec![channel.to_owned()])
}

/// The value of the sample line that starts with `series `.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn the_figures_are_text_and_join_an_applications_registry() {
    let publisher: Publisher<ClientInfo> = Publisher::new();
    let hub: Hub<KitRuntime> = Hub::new(
        publisher.clone(),
        HubConfig::new().with_metrics_channels(["news"]),
    );
    let mut news = publisher.subscribe("news", info("news"), []).unwrap();
    let _sport = publisher.subscribe("sport", info("sport"), []).unwrap();
    publisher.publish(Event::new("one"), "news").unwrap();
    assert_eq!(drain(&mut news), 1);

    let text = hub.metrics_text(false);
    assert_eq!(sample(&text, "sse_subscribers"), Some(2.0));
    assert_eq!(sample(&text, "sse_deliveries_total"), Some(1.0));
    assert_eq!(
        sample(&text, "sse_channel_subscribers{channel=\"news\"}"),
        Some(1.0)
    );
    assert!(
        !text.contains("sport"),
        "an unlisted channel is never a label"
    );
    assert_eq!(
        sample(&text, "sse_backend_up{backend=\"memory\"}"),
        Some(1.0)
    );
    assert!(
        !text.contains("sse_connections_accepted"),
        "no server figures when the hub is mounted elsewhere"
    );
    let openmetrics = hub.metrics_text(true);
    assert!(openmetrics.ends_with("# EOF\n"), "{openmetrics}");

    let mut registry = Registry::default();
    hub.register_metrics(&mut registry);
    let mut mine = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut mine, &registry).unwrap();
    assert_eq!(sample(&mine, "sse_subscribers"), Some(2.0));
}

#[test]
fn without_metrics_nothing_is_served_and_with_them_the_histogram_is() {
    let publisher: Publisher<ClientInfo> = Publisher::new();
    let hub: Hub<KitRuntime> = Hub::new(publisher.clone(), HubConfig::new().with_metrics(false));
    assert_eq!(hub.metrics_text(false), "");
    let on: Hub<KitRuntime> = Hub::new(Publisher::<ClientInfo>::new(), HubConfig::new());
    let text = on.metrics_text(false);
    assert_eq!(
        sample(&text, "sse_publish_to_write_seconds_count"),
        Some(0.0)
    );
}
