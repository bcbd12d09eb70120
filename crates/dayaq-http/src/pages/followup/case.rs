//! The follow-up section of the case page and the follow-ups due on the home page.

use super::*;

pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

/// One row of the safe-times picker (issue #23 §5): the days ticked and the hours, posted as
/// `w<i>_day` (1 = Monday … 7), `w<i>_from`, `w<i>_to` and turned back into the stored
/// `weekday@HH:MM-HH:MM` windows by `windows_posted`.
pub struct WindowRow {
    /// "Safe time 1", "Safe time 2" …
    pub label: String,
    pub days: Vec<Opt>,
    pub from: String,
    pub to: String,
}

/// The picker's rows for `windows`: one row per distinct pair of hours (days of the same hours
/// together), then `SPARE_WINDOW_ROWS` empty rows.
pub(super) fn window_rows(t: &Tr, windows: &[String]) -> Vec<WindowRow> {
    let mut groups: Vec<((u16, u16), Vec<u8>)> = Vec::new();
    for w in windows.iter().filter_map(|w| Window::parse(w)) {
        let hours = (w.start_min, w.end_min);
        match groups.iter_mut().find(|(h, _)| *h == hours) {
            Some((_, days)) => days.push(w.weekday),
            None => groups.push((hours, vec![w.weekday])),
        }
    }
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let row = |n: usize, days: &[u8], from: String, to: String| WindowRow {
        label: t.arg("fu-window-n", "count", n),
        days: WEEKDAYS
            .iter()
            .map(|(d, k)| Opt {
                value: d.to_string(),
                label: t.get(k),
                on: days.contains(d),
            })
            .collect(),
        from,
        to,
    };
    let mut rows: Vec<WindowRow> = groups
        .iter()
        .enumerate()
        .map(|(i, ((a, b), days))| row(i + 1, days, hm(*a), hm(*b)))
        .collect();
    for _ in 0..SPARE_WINDOW_ROWS {
        rows.push(row(rows.len() + 1, &[], String::new(), String::new()));
    }
    rows
}

pub struct ProtocolView {
    pub channels: String,
    pub windows: Vec<String>,
    pub language: String,
    pub safe_numbers: String,
    pub never_contact: String,
    pub never_places: String,
    pub cover_reason: String,
    pub code_word: String,
}

/// The protocol form's text fields as drawn.
#[derive(Default)]
pub struct ProtocolText {
    pub safe_numbers: String,
    pub never_contact: String,
    pub never_places: String,
    pub cover_reason: String,
    pub code_word: String,
}

pub struct TaskRow {
    pub id: String,
    pub due_on: String,
    pub kind: String,
    pub status: String,
    pub status_code: String,
    pub planned: String,
}

pub struct ContactRow {
    pub at: String,
    pub channel: String,
    pub reached: bool,
    pub breaches: String,
    pub justification: String,
}

pub struct FlagRow {
    pub code: String,
    pub label: String,
    pub level: String,
    pub level_code: String,
    pub reasons: String,
    pub action: String,
}

pub struct TrajRow {
    pub question: String,
    pub answers: String,
    pub trend: String,
    pub trend_code: String,
}

/// The trajectory rows of one questionnaire domain.
pub struct TrajGroup {
    pub domain: String,
    pub rows: Vec<TrajRow>,
}

/// One question of the assessment entry form.
pub struct QField {
    pub key: String,
    pub label: String,
    pub multi: bool,
    pub options: Vec<Opt>,
    /// The previous assessment's answer (labels), empty when none.
    pub previous: String,
}

/// The questions of one domain in the entry form.
pub struct QGroup {
    pub domain: String,
    pub questions: Vec<QField>,
}

#[derive(Template)]
#[template(path = "followup_case.html")]
pub(super) struct CaseSection<'a> {
    /// The forms' state (refused form, confirmation, one-time token; issue #23).
    forms: &'a crate::pages::form::CaseForms,
    t: Tr,
    csrf: String,
    case_id: Uuid,
    can_edit: bool,
    protocol: Option<ProtocolView>,
    form_channels: Vec<Opt>,
    form_windows: Vec<WindowRow>,
    form_dnc: bool,
    form_caller: String,
    /// Colleagues of the organisation who may be named as the caller (a select, not a
    /// username to type; issue #23 §5).
    form_colleagues: Vec<Opt>,
    form_language: String,
    /// The protocol form's free-text fields (stored, or as posted when refused).
    form_text: ProtocolText,
    plan_end: String,
    plan_months: String,
    plan_max_failed: String,
    lost_contact: bool,
    has_plan: bool,
    tasks: Vec<TaskRow>,
    open_tasks: Vec<Opt>,
    channels: Vec<Opt>,
    requests: Vec<Opt>,
    contacts: Vec<ContactRow>,
    assessments: usize,
    flags: Vec<FlagRow>,
    trajectories: Vec<TrajGroup>,
    form_groups: Vec<QGroup>,
    today: String,
    latest: String,
    latest_words: String,
    has_open_plan: bool,
    org_months: String,
    may_set_org_schedule: bool,
}

impl CaseSection<'_> {
    /// A refused protocol or assessment form is drawn again with what was posted (issue #23
    /// §1), not with what is stored.
    fn keep_posted(&mut self) {
        let f = self.forms;
        if f.errs.shows(PROTOCOL_FORM) {
            let form = PROTOCOL_FORM;
            for o in &mut self.form_channels {
                o.on = f.has(form, "channels", &o.value);
            }
            for (i, w) in self.form_windows.iter_mut().enumerate() {
                let day = format!("w{i}_day");
                for d in &mut w.days {
                    d.on = f.has(form, &day, &d.value);
                }
                w.from = f.v(form, &format!("w{i}_from"));
                w.to = f.v(form, &format!("w{i}_to"));
            }
            self.form_dnc = f.is(form, "do_not_contact", "yes");
            for o in &mut self.form_colleagues {
                o.on = f.is(form, "caller", &o.value);
            }
            self.form_language = f.v(form, "language");
            self.form_text = ProtocolText {
                safe_numbers: f.v(form, "safe_numbers"),
                never_contact: f.v(form, "never_contact"),
                never_places: f.v(form, "never_places"),
                cover_reason: f.v(form, "cover_reason"),
                code_word: f.v(form, "code_word"),
            };
        }
        if f.errs.shows(ASSESSMENT_FORM) {
            for q in self
                .form_groups
                .iter_mut()
                .flat_map(|g| g.questions.iter_mut())
            {
                for o in &mut q.options {
                    o.on = f.has(ASSESSMENT_FORM, &q.key, &o.value);
                }
            }
            self.today = f.v(ASSESSMENT_FORM, "assessed_on");
        }
    }
}

/// The followup part of the case page, rendered to HTML (empty when nothing to show).
pub(crate) async fn case_section(part: CasePart<'_>) -> Result<String, AppError> {
    let (state, a, ctx, t, case) = part.parts();
    let Some(facts) = part.facts().await? else {
        return Ok(String::new());
    };
    let actor = &a.actor;
    if !decide(
        actor,
        Action::ReadSection(Section::FollowUp),
        Resource::Case(&facts),
    )
    .allowed
    {
        return Ok(String::new());
    }
    let can_edit = decide(actor, Action::UpdateCase, Resource::Case(&facts)).allowed;
    let t = *t;
    let protocol = state.store.protocol(ctx, case).await?;
    let plan = state.store.plan(ctx, case).await?;
    let tasks = state.store.followup_tasks(ctx, case).await?;
    let contacts = state.store.followup_contacts(ctx, case).await?;
    let all = state.store.reintegration_assessments(ctx, case).await?;
    let assessments = all.len();
    let latest = all
        .last()
        .map(|a| format!("{} · {}", t.date(&a.assessed_on), a.round))
        .unwrap_or_default();
    let latest_words = all
        .last()
        .and_then(|a| a.assistance_needed_words.clone())
        .unwrap_or_default();
    let history: Vec<dayaq_domain::followup::Answers> =
        all.into_iter().map(|a| a.answers).collect();
    let traj = dayaq_domain::followup::trajectories(&history);
    // The standing answer to each question (a short self check-in does not clear the flags a
    // fuller assessment raised), as the API's reintegration answer computes them.
    let flags = dayaq_domain::followup::current_risk_flags(&history);
    let has_open_plan = can_edit
        && decide(
            actor,
            Action::ReadSection(Section::Plan),
            Resource::Case(&facts),
        )
        .allowed
        && state
            .store
            .plans(ctx, case)
            .await?
            .iter()
            .any(|p| p.actual_end.is_none());
    let org_schedule = state.store.followup_org_schedule(ctx).await?;
    let may_set_org_schedule = decide(
        actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed;
    let caller_name = match protocol.as_ref().and_then(|p| p.caller_user) {
        Some(u) => state
            .store
            .user_by_id(u)
            .await
            .map(|u| u.username)
            .unwrap_or_default(),
        None => String::new(),
    };
    let colleagues: Vec<dayaq_storage::users::User> = if can_edit {
        state
            .store
            .users_of_org(a.user.org_id)
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.role.works_cases())
            .collect()
    } else {
        Vec::new()
    };
    let on = |c: &str| {
        protocol
            .as_ref()
            .is_some_and(|p| p.channels.iter().any(|x| x == c))
    };
    let mut s = CaseSection {
        forms: part.forms,
        t,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        can_edit,
        form_channels: CHANNELS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: on(c),
            })
            .collect(),
        form_windows: window_rows(
            &t,
            protocol
                .as_ref()
                .map(|p| p.windows.as_slice())
                .unwrap_or(&[]),
        ),
        form_colleagues: colleagues
            .iter()
            .map(|u| Opt {
                value: u.username.clone(),
                label: format!(
                    "{} · {}",
                    u.username,
                    t.get(&format!("role-{}", u.role.as_str().replace('_', "-")))
                ),
                on: u.username == caller_name,
            })
            .collect(),
        form_dnc: protocol.as_ref().is_some_and(|p| p.do_not_contact),
        form_text: protocol
            .as_ref()
            .map(|p| ProtocolText {
                safe_numbers: p.safe_numbers.join("\n"),
                never_contact: p.never_contact.join("\n"),
                never_places: p.never_places.join("\n"),
                cover_reason: p.cover_reason.clone(),
                code_word: p.code_word.clone(),
            })
            .unwrap_or_default(),
        form_caller: caller_name,
        form_language: protocol
            .as_ref()
            .map(|p| p.language.clone())
            .unwrap_or_else(|| "az".into()),
        protocol: protocol.map(|p| ProtocolView {
            channels: p
                .channels
                .iter()
                .map(|c| label(&t, CHANNELS, c))
                .collect::<Vec<_>>()
                .join(", "),
            windows: p.windows.iter().map(|w| window_label(&t, w)).collect(),
            language: crate::i18n::language_name(&p.language),
            safe_numbers: p.safe_numbers.join("\n"),
            never_contact: p.never_contact.join("\n"),
            never_places: p.never_places.join("\n"),
            cover_reason: p.cover_reason,
            code_word: p.code_word,
        }),
        has_plan: plan.is_some(),
        lost_contact: plan.as_ref().is_some_and(|p| p.lost_contact),
        plan_end: plan
            .as_ref()
            .map(|p| p.assistance_end.clone())
            .unwrap_or_default(),
        plan_months: plan
            .as_ref()
            .map(|p| {
                p.months
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        plan_max_failed: plan
            .as_ref()
            .map(|p| p.max_failed.to_string())
            .unwrap_or_else(|| "3".into()),
        open_tasks: tasks
            .iter()
            .filter(|x| x.status != "done")
            .map(|x| Opt {
                value: x.id.to_string(),
                label: t.date(&x.due_on),
                on: false,
            })
            .collect(),
        tasks: tasks
            .iter()
            .map(|x| TaskRow {
                id: x.id.to_string(),
                due_on: t.date(&x.due_on),
                kind: match &x.request {
                    Some(r) if r == "call_back" => t.get("fu-req-call-back"),
                    Some(r) => label(&t, REQUESTS, r),
                    None => t.get("fu-kind-scheduled"),
                },
                status: label(&t, STATUSES, &x.status),
                status_code: x.status.clone(),
                planned: match (&x.channel, &x.planned_at) {
                    (Some(c), Some(at)) => {
                        format!("{} · {}", label(&t, CHANNELS, c), t.datetime(at))
                    }
                    _ => String::new(),
                },
            })
            .collect(),
        channels: CHANNELS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: false,
            })
            .collect(),
        requests: REQUESTS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: false,
            })
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| ContactRow {
                at: t.datetime(&c.at),
                channel: if c.channel == "self_check_in" {
                    t.get("fu-ch-self-check-in")
                } else {
                    label(&t, CHANNELS, &c.channel)
                },
                reached: c.reached,
                breaches: c
                    .breaches
                    .iter()
                    .map(|b| label(&t, BREACHES, b))
                    .collect::<Vec<_>>()
                    .join(", "),
                justification: c.justification.unwrap_or_default(),
            })
            .collect(),
        assessments,
        flags: flags
            .iter()
            .map(|f| FlagRow {
                code: f.code.to_string(),
                label: label(&t, FLAGS, f.code),
                level: label(&t, LEVELS, f.level),
                level_code: f.level.to_string(),
                reasons: f
                    .reasons
                    .iter()
                    .map(|(q, a)| {
                        format!(
                            "{} = {}",
                            label(&t, QUESTION_KEYS, q),
                            label(&t, ANSWERS, a)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                action: label(&t, ACTIONS, f.suggested_action),
            })
            .collect(),
        trajectories: DOMAINS
            .iter()
            .filter_map(|(d, dk)| {
                let rows: Vec<TrajRow> = traj
                    .iter()
                    .filter(|x| x.domain == *d && x.answers.iter().any(Option::is_some))
                    .map(|x| TrajRow {
                        question: label(&t, QUESTION_KEYS, x.key),
                        answers: x
                            .answers
                            .iter()
                            .map(|a| match a {
                                Some(a) => answer_labels(
                                    &t,
                                    &a.split('+').map(str::to_string).collect::<Vec<_>>(),
                                ),
                                None => "–".into(),
                            })
                            .collect::<Vec<_>>()
                            .join(" → "),
                        trend: label(&t, TRENDS, x.trend.as_str()),
                        trend_code: x.trend.as_str().into(),
                    })
                    .collect();
                (!rows.is_empty()).then(|| TrajGroup {
                    domain: t.get(dk),
                    rows,
                })
            })
            .collect(),
        form_groups: DOMAINS
            .iter()
            .map(|(d, dk)| QGroup {
                domain: t.get(dk),
                questions: QUESTIONS
                    .iter()
                    .filter(|q| q.domain == *d)
                    .map(|q| QField {
                        key: q.key.into(),
                        label: label(&t, QUESTION_KEYS, q.key),
                        multi: matches!(q.kind, QuestionKind::Multi),
                        options: q
                            .codes
                            .iter()
                            .map(|c| Opt {
                                value: (*c).into(),
                                label: label(&t, ANSWERS, c),
                                on: false,
                            })
                            .collect(),
                        previous: history
                            .last()
                            .and_then(|a| a.get(q.key))
                            .map(|v| answer_labels(&t, v))
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        today: dayaq_storage::followup::today(ctx.now).to_string(),
        latest,
        latest_words,
        has_open_plan,
        org_months: org_schedule
            .months
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        may_set_org_schedule,
    };
    s.keep_posted();
    debug_assert_eq!(QUESTIONS.len(), QUESTION_KEYS.len());
    debug_assert!(
        QUESTIONS
            .iter()
            .all(|q| q.codes.iter().all(|c| ANSWERS.iter().any(|(a, _)| a == c)))
    );
    s.render().map_err(|e| AppError::Internal(e.to_string()))
}

pub struct DueRow {
    pub case_id: String,
    pub case_number: String,
    pub due_on: String,
    pub status: String,
    pub kind: String,
    pub windows: String,
    pub do_not_contact: bool,
}

#[derive(Template)]
#[template(path = "followup_home.html")]
pub(super) struct HomeSection {
    t: Tr,
    rows: Vec<DueRow>,
    show_due: bool,
    manage_schedule: bool,
}

/// The followup part of the home page: the caseworker's follow-ups due today (and overdue)
/// with the protocol's safe window today.
pub(crate) async fn home_section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
) -> Result<String, AppError> {
    let show_due = a.user.role.works_cases();
    let manage_schedule = may_manage_schedule(a);
    if !show_due && !manage_schedule {
        return Ok(String::new());
    }
    let t = *t;
    let due = if show_due {
        state.store.followups_due(ctx).await?
    } else {
        Vec::new()
    };
    let rows = due
        .into_iter()
        .map(|d| DueRow {
            case_id: d.task.case_id.to_string(),
            case_number: d.case_number.unwrap_or_default(),
            due_on: t.date(&d.task.due_on),
            status: label(&t, STATUSES, &d.task.status),
            kind: match &d.task.request {
                Some(r) if r == "call_back" => t.get("fu-req-call-back"),
                Some(r) => label(&t, REQUESTS, r),
                None => t.get("fu-kind-scheduled"),
            },
            windows: if d.safe_windows_today.is_empty() {
                t.get("fu-home-no-window")
            } else {
                d.safe_windows_today.join(", ")
            },
            do_not_contact: d.do_not_contact,
        })
        .collect();
    HomeSection {
        t,
        rows,
        show_due,
        manage_schedule,
    }
    .render()
    .map_err(|e| AppError::Internal(e.to_string()))
}
