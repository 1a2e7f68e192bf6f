//! A QR code drawn as SVG path data (no HTML strings, no images from anywhere).

use leptos::prelude::*;
use qrcode::{Color, QrCode as Code};

/// SVG path data covering the dark modules of `data`'s QR code, and its width in modules
/// (including a 4-module quiet zone).
pub fn qr_path(data: &str) -> Option<(String, usize)> {
    let code = Code::new(data.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let mut d = String::new();
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            d.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some((d, width + 8))
}

#[component]
pub fn QrCode(data: String, label: &'static str) -> impl IntoView {
    qr_path(&data).map(|(d, size)| {
        view! {
            <svg class="qr" role="img" aria-label=label viewBox=format!("0 0 {size} {size}")
                width="192" height="192" shape-rendering="crispEdges">
                <rect width="100%" height="100%" fill="#fff" />
                <path d=d fill="#000" />
            </svg>
        }
    })
}
