//! The end of a run: the header (date, machine, hubs), the table on
//! stdout, the JSON and the SVG chart.

use serde_json::{Value, json};

use crate::chart;
use crate::hubs::{HubKind, Tools};
use crate::report::Report;
use crate::system;

use super::{FANOUT_QUEUE, Settings};

fn describe(tools: &Tools, settings: &Settings, hub: HubKind) -> String {
    match hub {
        HubKind::Ours => format!(
            "{} (sse serve --max-connections 20000 --log-level warn; fan-out scenarios add \
             --queue-size {FANOUT_QUEUE}) {}",
            tools.sse_version,
            settings.hub_args.join(" ")
        )
        .trim()
        .to_string(),
        HubKind::Nchan => format!(
            "nginx {} + nchan {} (one process: master_process off)",
            tools.nginx_version.trim_start_matches("nginx/"),
            tools.nchan_version
        ),
        HubKind::Node => format!("node {} (benches/load/hub.js)", tools.node_version),
        HubKind::FloorHyper => {
            "a bare hyper 1 HTTP/1.1 connection per socket, body never yields".into()
        }
        HubKind::FloorTask => "a tokio task per socket holding a 1 KiB head buffer".into(),
        HubKind::FloorVec => "sockets kept in a Vec, no task".into(),
    }
}

fn header(tools: &Tools, settings: &Settings, report: &Report, load_before: &str) -> Value {
    let machine = system::Machine::read();
    let hubs: serde_json::Map<String, Value> = report
        .present_hubs()
        .into_iter()
        .map(|hub| {
            (
                hub.name().to_string(),
                Value::from(describe(tools, settings, hub)),
            )
        })
        .collect();
    json!({
        "date": system::today(),
        "machine": {
            "cpu": machine.cpu,
            "cores": machine.cores,
            "memory_gib": (machine.memory_gib * 10.0).round() / 10.0,
            "kernel": machine.kernel,
        },
        "load_average_before": load_before,
        "load_average_after": system::load_average(),
        "runs": settings.runs,
        "quick": settings.quick,
        "publishers": settings.publishers,
        "hubs": hubs,
        "redis": tools.redis_version,
    })
}

pub(super) fn finish(
    tools: &Tools,
    settings: &Settings,
    name: &str,
    report: &Report,
    load_before: String,
) -> Result<(), String> {
    let header = header(tools, settings, report, &load_before);
    let machine = &header["machine"];
    println!(
        "\nload {name}, {}: {} ({} cores, {} GiB), Linux {}; load average {} before, {} after; \
         median of {} runs (min–max)\n",
        header["date"].as_str().unwrap_or_default(),
        machine["cpu"].as_str().unwrap_or_default(),
        machine["cores"],
        machine["memory_gib"],
        machine["kernel"].as_str().unwrap_or_default(),
        load_before,
        header["load_average_after"].as_str().unwrap_or_default(),
        settings.runs
    );
    for (hub, text) in header["hubs"].as_object().into_iter().flatten() {
        println!("- {hub}: {}", text.as_str().unwrap_or_default());
    }
    println!("\n{}", report.table());
    for note in &report.notes {
        println!("- {note}");
    }
    let Some(dir) = &settings.write else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let json_path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&report.json(header.clone()))
        .map_err(|error| format!("JSON: {error}"))?;
    std::fs::write(&json_path, text + "\n")
        .map_err(|error| format!("{}: {error}", json_path.display()))?;
    let svg_path = dir.join(format!("{name}.svg"));
    let title = format!(
        "load {name}: {}, {} cores, {}; median of {} runs, whiskers min–max",
        machine["cpu"].as_str().unwrap_or_default(),
        machine["cores"],
        header["date"].as_str().unwrap_or_default(),
        settings.runs
    );
    chart::write_svg(report, &title, &svg_path)?;
    println!("\nwrote {} and {}", json_path.display(), svg_path.display());
    Ok(())
}
