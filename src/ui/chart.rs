//! Small charts drawn as inline SVG and HTML (no script, no library): bars per day with two
//! series, and a status mix. Shared by the history, overview and subscriptions pages.

use leptos::prelude::*;

/// One day of a [`DayBars`] chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayBar {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The first series' count (drawn in the accent colour).
    pub first: u32,
    /// The second series' count (drawn in the danger colour).
    pub second: u32,
}

/// Bars per day, the two series side by side, at most the newest 60 days. `names` are the
/// series' names (plural nouns: "payments", "refunds"); `legend` their legend texts.
#[component]
pub fn DayBars(
    days: Vec<DayBar>,
    names: (&'static str, &'static str),
    legend: (&'static str, &'static str),
    #[prop(into)] testid: String,
    #[prop(into)] empty: String,
) -> impl IntoView {
    if days.iter().all(|d| d.first == 0 && d.second == 0) {
        return view! { <p class="muted chart-empty" data-testid=testid>{empty}</p> }.into_any();
    }
    let days: Vec<DayBar> = days.iter().skip(days.len().saturating_sub(60)).cloned().collect();
    let max = days.iter().map(|d| d.first.max(d.second)).max().unwrap_or(1).max(1) as f64;
    let (slot, bar, height, top, left) = (28.0, 11.0, 120.0, 8.0, 28.0);
    let width = left + slot * days.len() as f64 + 8.0;
    let every = days.len().div_ceil(8).max(1);
    let scale = |n: u32| (n as f64 / max) * height;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = left + slot * i as f64 + 2.0;
            let (h1, h2) = (scale(d.first), scale(d.second));
            let label = (i % every == 0).then(|| {
                view! {
                    <text x=format!("{:.1}", x + bar) y=format!("{:.1}", top + height + 14.0) class="chart-label" text-anchor="middle">
                        {d.date.get(5..).unwrap_or(&d.date).to_owned()}
                    </text>
                }
            });
            view! {
                <g>
                    <rect class="bar-first" x=format!("{x:.1}") y=format!("{:.1}", top + height - h1) width=bar height=format!("{h1:.1}")>
                        <title>{format!("{}: {} {}", d.date, d.first, names.0)}</title>
                    </rect>
                    <rect class="bar-second" x=format!("{:.1}", x + bar) y=format!("{:.1}", top + height - h2) width=bar height=format!("{h2:.1}")>
                        <title>{format!("{}: {} {}", d.date, d.second, names.1)}</title>
                    </rect>
                    {label}
                </g>
            }
        })
        .collect_view();
    let total1: u32 = days.iter().map(|d| d.first).sum();
    let total2: u32 = days.iter().map(|d| d.second).sum();
    let aria = format!("Bar chart: {total1} {} and {total2} {} over {} days", names.0, names.1, days.len());
    view! {
        <svg
            class="day-chart"
            data-testid=testid
            role="img"
            aria-label=aria
            viewBox=format!("0 0 {width:.0} {:.0}", top + height + 20.0)
            width=format!("{width:.0}")
            height=format!("{:.0}", top + height + 20.0)
        >
            <line class="chart-axis" x1=left y1=top + height x2=width - 4.0 y2=top + height />
            <text x="2" y=format!("{:.0}", top + 8.0) class="chart-label">{format!("{max:.0}")}</text>
            <text x="2" y=format!("{:.0}", top + height) class="chart-label">"0"</text>
            {bars}
        </svg>
        <p class="chart-legend">
            <span class="legend-swatch bar-first-swatch"></span>{format!(" {} ", legend.0)}
            <span class="legend-swatch bar-second-swatch"></span>{format!(" {}", legend.1)}
        </p>
    }
    .into_any()
}

/// One status of a [`StatusMix`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixPart {
    /// The status, as Stripe names it.
    pub status: String,
    /// How many have it.
    pub count: u32,
    /// Where the rows with this status are listed.
    pub href: String,
}

/// A stacked bar of how many rows have each status, with a legend of links to each status's
/// rows. Its accessible name is the counts alone ("4 active, 1 canceled"): a name with the word
/// "status" in it would also answer to the filter forms' "Status" label. The bar is SVG: its widths are attributes, which the CSP (`style-src 'self'`, see
/// `src/server/http.rs`) allows where inline styles would be refused.
#[component]
pub fn StatusMix(parts: Vec<MixPart>, #[prop(into)] testid: String) -> impl IntoView {
    let total: u32 = parts.iter().map(|p| p.count).sum();
    if total == 0 {
        return view! { <p class="muted" data-testid=testid>"None yet."</p> }.into_any();
    }
    let label = parts.iter().map(|p| format!("{} {}", p.count, p.status)).collect::<Vec<_>>().join(", ");
    let mut x = 0.0;
    let segments = parts
        .iter()
        .filter(|p| p.count > 0)
        .map(|p| {
            let width = f64::from(p.count) * 1000.0 / f64::from(total);
            let at = x;
            x += width;
            view! {
                <rect class=format!("mix-{}", p.status) x=format!("{at:.1}") y="0" width=format!("{width:.1}") height="16">
                    <title>{format!("{}: {}", p.status, p.count)}</title>
                </rect>
            }
        })
        .collect_view();
    let legend = parts
        .into_iter()
        .map(|MixPart { status, count, href }| {
            let (class, key) = (format!("mix-{status}"), status.clone());
            view! {
                <li data-status=key>
                    <svg class="legend-dot" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
                        <rect class=class width="10" height="10" rx="2" />
                    </svg>
                    " " <a href=href>{status}</a> " " <span class="num">{count}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="status-mix" data-testid=testid>
            <svg class="mix-bar" viewBox="0 0 1000 16" preserveAspectRatio="none" role="img" aria-label=label>
                {segments}
            </svg>
            <ul class="mix-legend">{legend}</ul>
        </div>
    }
    .into_any()
}
