//! The price policy as the server's command line shows it (`jiuloop-server policy show`).
//! Publishing goes through the hub ([`crate::admin::AdminCommand::PublishPolicy`]).

use crate::storage::{DbError, Storage};
use crate::sync::doc_state::DocState;
use protocol::pricing::{Policy, PriceAdjustment, format_abv};
use protocol::schema::Lang;
use protocol::schema::order::format_fen;
use protocol::schema::policy_doc::{self, POLICY_DOC_ID, PublishedPolicy};
use protocol::time::display_local;
use std::fmt::Write;

/// Every published version as stored, oldest first.
pub fn published(db: &dyn Storage) -> Result<Vec<PublishedPolicy>, DbError> {
    let Some(stored) = db.load_doc(POLICY_DOC_ID.as_bytes())? else {
        return Ok(Vec::new());
    };
    let (_, state) = DocState::load(stored)?;
    Ok(policy_doc::read(&state.doc))
}

/// A summary of one version: catalogue, prices per channel, authorities, thresholds, and
/// (with `upcoming`) the adjustments announced at `now` but not yet in force.
pub fn render(p: &PublishedPolicy, upcoming: bool, now: i64) -> String {
    let Policy { title, skus, prices, channel_tiers, authorities, thresholds, promotions, agreements, .. } = &p.policy;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "price policy version {} — {title}\npublished {} by {}",
        p.version,
        display_local(p.published_at),
        p.published_by
    );
    let _ = writeln!(
        out,
        "{} SKUs, {} tier prices, {} promotions, {} agreement prices",
        skus.len(),
        prices.len(),
        promotions.len(),
        agreements.len()
    );
    for s in skus {
        let tiers: Vec<String> = prices
            .iter()
            .filter(|t| t.sku == s.code)
            .map(|t| format!("{} {}", t.tier.label(Lang::En), format_fen(t.price_fen)))
            .collect();
        let _ = writeln!(
            out,
            "  {:<16} {} {} {}{}  {}",
            s.code,
            s.name,
            s.spec,
            format_abv(s.abv_tenths),
            if s.active { "" } else { " (inactive)" },
            tiers.join(", ")
        );
    }
    for c in channel_tiers {
        let _ = writeln!(out, "  channel {} pays {}", c.channel.as_str(), c.tier.label(Lang::En));
    }
    for a in authorities {
        let _ = writeln!(
            out,
            "  {} may discount up to {}",
            a.role.as_str(),
            protocol::pricing::format_bp(i64::from(a.max_discount_bp))
        );
    }
    for t in thresholds {
        let _ = writeln!(out, "  orders from {} yuan need {}'s approval", format_fen(t.min_total_fen), t.role.as_str());
    }
    if upcoming {
        let list: Vec<&PriceAdjustment> = p.policy.upcoming_adjustments(now);
        if list.is_empty() {
            let _ = writeln!(out, "no upcoming adjustments");
        }
        for a in list {
            let _ = writeln!(
                out,
                "  upcoming {}: {} {} → {} from {}",
                a.id,
                a.sku,
                a.tier.label(Lang::En),
                format_fen(a.price_fen),
                display_local(a.effective_at)
            );
        }
    }
    out
}
