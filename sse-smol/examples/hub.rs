//! The hub served alone on smol, in memory: the chat page at `/`,
//! `GET /events?channel=..`, `POST /publish` and the rest of the hub's
//! routes, until Ctrl-C. Run it with
//! `cargo run -p sse-smol --features hub --example smol_hub`, then open
//! http://127.0.0.1:5000 in two tabs.

use std::sync::Arc;

use async_executor::Executor;
use async_net::TcpListener;
use sse_smol::Publisher;
use sse_smol::hub::{ClientInfo, Hub, HubConfig};
use sse_smol::server::SmolExecutor;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5000".into());
    let publisher: Publisher<ClientInfo> = Publisher::new();
    let hub = Hub::new(publisher, HubConfig::new());

    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let listener = TcpListener::bind(address).await?;
        println!("listening on http://{}", listener.local_addr()?);
        // Each connection a task on `executor`; for ever (the hub ends its
        // streams with a retry hint if the future given here resolves).
        hub.serve(
            listener,
            SmolExecutor(Arc::clone(&executor)),
            std::future::pending(),
        )
        .await
    }))
}
