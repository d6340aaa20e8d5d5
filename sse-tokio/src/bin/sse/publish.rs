//! `sse publish`: send one event to a hub started with `sse serve`.

use std::io::{self, Read};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sse_tokio::proto::{EventId, EventType};

/// Options of `sse publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// The data to send; read from stdin when absent.
    data: Option<String>,
    /// The hub's base URL.
    #[arg(long, env = "SSE_URL", default_value = "http://127.0.0.1:5000")]
    url: String,
    /// The channel to publish on (the hub's default channel when none);
    /// repeat for several.
    #[arg(short, long = "channel", value_name = "NAME")]
    channels: Vec<String>,
    /// The event type (the default is `message`).
    #[arg(short, long, value_name = "TYPE")]
    event: Option<String>,
    /// The event id (by default the hub assigns one if it generates ids).
    #[arg(long)]
    id: Option<String>,
    /// The hub's publish token, sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "SSE_PUBLISH_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// The hub's answer to `POST /publish`.
#[derive(Debug, serde::Deserialize)]
struct Published {
    id: Option<String>,
    subscribers: u64,
}

/// Runs `sse publish`: prints the id the event got (if any) on stdout and
/// how many subscribers it reached on stderr.
pub(crate) async fn publish(args: PublishArgs) -> Result<(), String> {
    // Refuse what the hub would refuse, before sending anything.
    if let Some(event) = &args.event {
        EventType::new(event).map_err(|error| format!("--event: {error}"))?;
    }
    if let Some(id) = &args.id {
        EventId::new(id).map_err(|error| format!("--id: {error}"))?;
    }
    let data = match args.data {
        Some(data) => data,
        None => {
            let mut data = String::new();
            io::stdin()
                .read_to_string(&mut data)
                .map_err(|error| format!("reading the data from stdin: {error}"))?;
            data
        }
    };
    let body = serde_json::json!({
        "channels": args.channels,
        "event": args.event,
        "id": args.id,
        "data": data,
    });
    let url = format!("{}/publish", args.url.trim_end_matches('/'));
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(&url)
        .header("content-type", "application/json");
    if let Some(token) = &args.token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|error| format!("{url}: {error}"))?;

    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|error| format!("TLS: {error}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let response = client
        .request(request)
        .await
        .map_err(|error| format!("{url}: {error}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("{url}: {error}"))?
        .to_bytes();
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Err(format!("{url} answered {status}: {}", text.trim()));
    }
    let published: Published = serde_json::from_slice(&body)
        .map_err(|error| format!("{url} answered something that is not a hub's reply: {error}"))?;
    if let Some(id) = published.id {
        println!("{id}");
    }
    eprintln!(
        "published to {} subscriber{}",
        published.subscribers,
        if published.subscribers == 1 { "" } else { "s" }
    );
    Ok(())
}
