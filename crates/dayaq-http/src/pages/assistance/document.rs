//! The individual rehabilitation plan for signature (issue #21 §2), labelled as on the plan
//! screen: her priorities in her words, the goals, the actions with their organisations and
//! dates, and signature lines for her, the case worker and the supervisor. Given by the API
//! (`GET /api/v1/cases/{id}/plans/{plan_id}/pdf`), linked from the plan section.

use super::{ACTION_STATUSES, DOMAINS, PLAN_TYPES, TERMS, label, service_label};
use crate::documents::{document, signatures};
use crate::i18n::{Lang, Tr};
use dayaq_interchange::documents::{Block, Document};
use dayaq_storage::documents::PlanSource;

/// The plan as a document in `lang`.
pub(crate) fn plan_document(lang: Lang, s: &PlanSource) -> Document {
    let t = Tr::new(lang);
    let p = &s.plan;
    let title = t.get("doc-plan-title");
    let dash = || "—".to_string();
    let yes_no = |b: bool| t.get(if b { "doc-yes" } else { "doc-no" });
    let mut blocks = vec![
        Block::KeyValues(vec![
            (t.get("doc-organisation"), s.holder.clone()),
            (t.get("doc-case-number"), s.case_number.clone()),
            (t.get("asst-plan-type"), label(&t, PLAN_TYPES, &p.spl_type)),
            (
                t.get("asst-objectives"),
                p.objectives.clone().unwrap_or_else(dash),
            ),
            (
                t.get("asst-planned-end"),
                p.planned_end.clone().unwrap_or_else(dash),
            ),
            (
                t.get("asst-review-on"),
                p.review_on.clone().unwrap_or_else(dash),
            ),
            (t.get("doc-plan-agreed"), yes_no(p.survivor_agreed)),
            (t.get("doc-plan-approved"), yes_no(p.approved)),
        ]),
        Block::Heading(t.get("rules-her-priorities")),
        Block::Paragraph(p.priorities.clone().unwrap_or_else(dash)),
        Block::Heading(t.get("asst-goals")),
    ];
    if p.goals.is_empty() {
        blocks.push(Block::Paragraph(dash()));
    } else {
        blocks.push(Block::KeyValues(
            p.goals
                .iter()
                .map(|g| {
                    let mut k = label(&t, TERMS, &g.term);
                    if let Some(d) = &g.domain {
                        k = format!("{k} · {}", label(&t, DOMAINS, d));
                    }
                    (k, g.description.clone())
                })
                .collect(),
        ));
    }
    blocks.push(Block::Heading(t.get("asst-actions")));
    if p.actions.is_empty() {
        blocks.push(Block::Paragraph(dash()));
    } else {
        // Each action: its service and organisation, then its date and status, then its goal
        // (short lines, so that a name is never cut across two).
        let mut rows = Vec::new();
        for a in &p.actions {
            let org = s
                .org_names
                .get(&a.responsible_org)
                .cloned()
                .unwrap_or_default();
            rows.push((
                service_label(&t, &a.service),
                format!("{}: {org}", t.get("asst-responsible")),
            ));
            rows.push((
                String::new(),
                format!(
                    "{}: {} · {}: {}",
                    t.get("asst-due"),
                    a.due_on.clone().unwrap_or_else(dash),
                    t.get("asst-status"),
                    label(&t, ACTION_STATUSES, &a.status)
                ),
            ));
            if let Some(goal) = a.goal_id.and_then(|g| p.goals.iter().find(|x| x.id == g)) {
                rows.push((
                    String::new(),
                    format!("{}: {}", t.get("asst-goal"), goal.description),
                ));
            }
        }
        blocks.push(Block::KeyValues(rows));
    }
    blocks.push(signatures(
        &t,
        &[
            "doc-sign-survivor",
            "doc-sign-caseworker",
            "doc-sign-supervisor",
        ],
    ));
    document(lang, &t, title, blocks)
}
