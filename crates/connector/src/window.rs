//! Time windows (`scheduleParams`, reference §5.9): what a run sends so the
//! API returns only the records of its window `[start, end)`.
//!
//! Basic form: `scheduleStartParamName`/`scheduleEndParamName` go as query
//! parameters on every page, rendered in UTC with their .NET-style formats;
//! a window without a start (the first, backfill run) omits the start
//! parameter. ADVANCE form: the `incremental` expression (or `backfill` when
//! the window has no start) with `{START_TIME}`/`{END_TIME}` rendered by
//! `paramFormat` replaces `{SCHEDULE_QUERY}` wherever it appears; without a
//! window at all the backfill expression is used with `{END_TIME}` = now.

use flowd_spec::Schedule;
use jiff::Timestamp;

/// The half-open interval of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `None` for a backfill from the beginning of time.
    pub start: Option<Timestamp>,
    pub end: Timestamp,
}

/// What a window adds to the base request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowParameters {
    /// Query parameters sent on every page.
    pub query: Vec<(String, String)>,
    /// The value of `{SCHEDULE_QUERY}` (ADVANCE form only).
    pub schedule_query: Option<String>,
}

/// The parameters of `window` under `schedule`; `now` stands for a missing
/// end in the ADVANCE form.
pub fn window_parameters(
    schedule: Option<&Schedule>,
    window: Option<&Window>,
    now: Timestamp,
) -> WindowParameters {
    match schedule {
        None => WindowParameters::default(),
        Some(Schedule::Basic {
            start_name,
            end_name,
            start_format,
            end_format,
        }) => {
            let Some(window) = window else {
                return WindowParameters::default();
            };
            let mut query = Vec::with_capacity(2);
            if let Some(start) = window.start {
                query.push((start_name.clone(), start_format.render(start)));
            }
            query.push((end_name.clone(), end_format.render(window.end)));
            WindowParameters {
                query,
                schedule_query: None,
            }
        }
        Some(Schedule::Advance {
            format,
            incremental,
            backfill,
        }) => {
            let start = window.and_then(|window| window.start);
            let end = window.map_or(now, |window| window.end);
            let expression = if start.is_some() {
                incremental
            } else {
                backfill
            };
            let mut rendered = expression.clone();
            for (token, instant) in [("START_TIME", start), ("END_TIME", Some(end))] {
                let Some(instant) = instant else { continue };
                let text = format.render(instant);
                for spelling in [format!("${{{token}}}"), format!("{{{token}}}")] {
                    rendered = rendered.replace(&spelling, &text);
                }
            }
            WindowParameters {
                query: Vec::new(),
                schedule_query: Some(rendered),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowd_spec::DotNetDateFormat;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn basic() -> Schedule {
        Schedule::Basic {
            start_name: "since_last_changed".into(),
            end_name: "before_last_changed".into(),
            start_format: DotNetDateFormat::parse("yyyy-MM-ddTHH:mm:ss:fffffffK").unwrap(),
            end_format: DotNetDateFormat::parse("yyyy-MM-ddTHH:mm:ssZ").unwrap(),
        }
    }

    fn advance() -> Schedule {
        Schedule::Advance {
            format: DotNetDateFormat::parse("yyyy-MM-ddTHH:mm:ssK").unwrap(),
            incremental: "type:user updated>{START_TIME} updated<{END_TIME}".into(),
            backfill: "type:user updated<{END_TIME}".into(),
        }
    }

    #[test]
    fn windows_render_as_the_spec_says() {
        let now = at("2030-01-01T00:00:00Z");
        let full = Window {
            start: Some(at("2024-01-02T03:04:05.25Z")),
            end: at("2024-01-03T00:00:00Z"),
        };
        let open = Window {
            start: None,
            end: at("2024-01-03T00:00:00Z"),
        };
        let cases: Vec<(&str, Schedule, Option<Window>, WindowParameters)> = vec![
            (
                "basic with both bounds",
                basic(),
                Some(full),
                WindowParameters {
                    query: vec![
                        (
                            "since_last_changed".into(),
                            "2024-01-02T03:04:05:2500000Z".into(),
                        ),
                        ("before_last_changed".into(), "2024-01-03T00:00:00Z".into()),
                    ],
                    schedule_query: None,
                },
            ),
            (
                "basic backfill omits the start",
                basic(),
                Some(open),
                WindowParameters {
                    query: vec![("before_last_changed".into(), "2024-01-03T00:00:00Z".into())],
                    schedule_query: None,
                },
            ),
            (
                "basic without a window sends nothing",
                basic(),
                None,
                WindowParameters::default(),
            ),
            (
                "advance incremental",
                advance(),
                Some(full),
                WindowParameters {
                    query: vec![],
                    schedule_query: Some(
                        "type:user updated>2024-01-02T03:04:05Z updated<2024-01-03T00:00:00Z"
                            .into(),
                    ),
                },
            ),
            (
                "advance backfill window",
                advance(),
                Some(open),
                WindowParameters {
                    query: vec![],
                    schedule_query: Some("type:user updated<2024-01-03T00:00:00Z".into()),
                },
            ),
            (
                "advance without a window ends now",
                advance(),
                None,
                WindowParameters {
                    query: vec![],
                    schedule_query: Some("type:user updated<2030-01-01T00:00:00Z".into()),
                },
            ),
        ];
        for (description, schedule, window, expected) in cases {
            assert_eq!(
                window_parameters(Some(&schedule), window.as_ref(), now),
                expected,
                "{description}"
            );
        }
    }
}
