//! Table tests for parsing and window arithmetic, and a seeded randomized simulation: random
//! schedules driven by a sequence of `now`s with arbitrary gaps (downtime, clock skew) must
//! always yield contiguous, ordered, non-overlapping windows that never end after `now` and
//! leave nothing due behind.
//!
//! The simulation uses a small deterministic generator instead of proptest, so a failure names
//! its seed and replays exactly, and the workspace gains no dependency.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("test timestamp in range")
}

fn schedule(params: Value) -> Schedule {
    Schedule::from_params(&params).unwrap_or_else(|error| panic!("{params}: {error}"))
}

fn problems(result: Result<Schedule, ScheduleError>) -> Vec<String> {
    result
        .expect_err("parsing should fail")
        .problems()
        .iter()
        .map(FieldProblem::to_string)
        .collect()
}

fn window(scheduled_at: i64, start: Option<i64>, end: i64) -> ScheduledWindow {
    ScheduledWindow {
        scheduled_at: at(scheduled_at),
        start: start.map(at),
        end: at(end),
    }
}

#[test]
fn schedule_params_parse_leniently() {
    let cases: Vec<(Value, Timestamp, Frequency, Option<i64>, bool)> = vec![
        (
            json!({"startTime": 1632809759, "frequency": "minute", "interval": 15}),
            at(1632809759),
            Frequency::Minute,
            Some(900),
            true,
        ),
        (
            json!({"startTime": "1632809759", "frequency": "hour", "interval": "2", "backfill": "false"}),
            at(1632809759),
            Frequency::Hour,
            Some(7200),
            false,
        ),
        (
            json!({"startTime": 1632809759.0, "frequency": " Day ", "interval": 1.0, "backfill": false}),
            at(1632809759),
            Frequency::Day,
            Some(86_400),
            false,
        ),
        (
            json!({"startTime": 0, "frequency": "week", "interval": 3, "backfill": null}),
            at(0),
            Frequency::Week,
            Some(3 * 604_800),
            true,
        ),
        (
            json!({"startTime": 100, "frequency": "once"}),
            at(100),
            Frequency::Once,
            None,
            true,
        ),
        (
            json!({"startTime": 100, "frequency": "once", "interval": 0, "backfill": "TRUE"}),
            at(100),
            Frequency::Once,
            None,
            true,
        ),
    ];
    for (params, start_time, frequency, period_seconds, backfill) in cases {
        let parsed = schedule(params.clone());
        assert_eq!(parsed.start_time(), start_time, "{params}");
        assert_eq!(parsed.frequency(), frequency, "{params}");
        assert_eq!(
            parsed.recurrence().period_seconds(),
            period_seconds,
            "{params}"
        );
        assert_eq!(parsed.backfill(), backfill, "{params}");
    }
}

#[test]
fn malformed_schedule_params_name_every_field() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!([]), vec!["(root): must be an object"]),
        (
            json!({}),
            vec!["/startTime: is required", "/frequency: is required"],
        ),
        (
            json!({"startTime": "soon", "frequency": "monthly", "backfill": "yes"}),
            vec![
                "/startTime: must be whole epoch seconds as a number or a numeric string, got \"soon\"",
                "/frequency: frequency must be one of once, minute, hour, day, week, got \"monthly\"",
                "/backfill: must be true or false (or the strings \"true\"/\"false\"), got \"yes\"",
            ],
        ),
        (
            json!({"startTime": 10, "frequency": "minute"}),
            vec!["/interval: interval is required when frequency is minute"],
        ),
        (
            json!({"startTime": 10, "frequency": "minute", "interval": 0}),
            vec!["/interval: must be at least 1, got 0"],
        ),
        (
            json!({"startTime": 10, "frequency": "day", "interval": "-3"}),
            vec!["/interval: must be at least 1, got -3"],
        ),
        (
            json!({"startTime": 10, "frequency": "day", "interval": 1.5}),
            vec!["/interval: must be an integer as a number or a numeric string, got 1.5"],
        ),
        (
            json!({"startTime": 10, "frequency": "week", "interval": 5_000_000_000_i64}),
            vec![
                "/interval: must be at most 52 for frequency week (runs at most 366 days apart), got 5000000000",
            ],
        ),
        (
            json!({"startTime": 10, "frequency": "minute", "interval": 527_041}),
            vec![
                "/interval: must be at most 527040 for frequency minute (runs at most 366 days apart), got 527041",
            ],
        ),
        (
            json!({"startTime": 99_999_999_999_999_i64, "frequency": "once"}),
            vec![
                "/startTime: 99999999999999 looks like epoch milliseconds; send epoch seconds (99999999999)",
            ],
        ),
        (
            json!({"startTime": 1_700_000_000_000_i64, "frequency": "once"}),
            vec![
                "/startTime: 1700000000000 looks like epoch milliseconds; send epoch seconds (1700000000)",
            ],
        ),
        (
            json!({"startTime": i64::MAX, "frequency": "once"}),
            vec![
                "/startTime: 9223372036854775807 is after the year 9999; send epoch seconds between 0 and 253402207200",
            ],
        ),
        (
            json!({"startTime": i64::MIN, "frequency": "once"}),
            vec![
                "/startTime: -9223372036854775808 is before 1970; send epoch seconds between 0 and 253402207200",
            ],
        ),
        (
            json!({"startTime": 1e30, "frequency": "once"}),
            vec![
                "/startTime: must be whole epoch seconds as a number or a numeric string, got 1e+30",
            ],
        ),
        (
            json!({"startTime": 10, "frequency": 15, "interval": 15}),
            vec!["/frequency: frequency must be one of once, minute, hour, day, week, got 15"],
        ),
    ];
    for (params, expected) in cases {
        assert_eq!(
            problems(Schedule::from_params(&params)),
            expected,
            "{params}"
        );
    }
    let error = Schedule::from_params(&json!({"startTime": 1, "frequency": "hour", "interval": 0}))
        .expect_err("interval 0");
    assert_eq!(
        error.to_string(),
        "invalid scheduleParams: /interval: must be at least 1, got 0"
    );
}

#[test]
fn first_window_follows_backfill() {
    let cases: Vec<(Value, Option<i64>)> = vec![
        (
            json!({"startTime": 10_000, "frequency": "minute", "interval": 15}),
            None,
        ),
        (
            json!({"startTime": 10_000, "frequency": "minute", "interval": 15, "backfill": false}),
            Some(10_000 - 900),
        ),
        (
            json!({"startTime": 10_000, "frequency": "week", "interval": 1, "backfill": "false"}),
            Some(10_000 - 604_800),
        ),
        (json!({"startTime": 10_000, "frequency": "once"}), None),
        // `once` has no interval to subtract: its window is unbounded even without backfill.
        (
            json!({"startTime": 10_000, "frequency": "once", "backfill": false}),
            None,
        ),
    ];
    for (params, expected_start) in cases {
        let parsed = schedule(params.clone());
        let windows = parsed.due_windows(None, at(10_000), 10);
        assert_eq!(
            windows,
            vec![window(10_000, expected_start, 10_000)],
            "{params}"
        );
    }
}

#[test]
fn nothing_is_due_before_start_time() {
    let parsed = schedule(json!({"startTime": 10_000, "frequency": "hour", "interval": 1}));
    assert!(parsed.due_windows(None, at(9_999), 10).is_empty());
    assert_eq!(parsed.next_scheduled_after(None), Some(at(10_000)));
}

#[test]
fn missed_windows_come_back_one_run_each_in_order() {
    let parsed = schedule(json!({"startTime": 1_000, "frequency": "minute", "interval": 15}));
    // Down from just after the first run until 47 minutes later: three runs were missed.
    let first = parsed.due_windows(None, at(1_010), 10);
    assert_eq!(first, vec![window(1_000, None, 1_000)]);
    let caught_up = parsed.due_windows(Some(at(1_000)), at(1_000 + 47 * 60), 10);
    assert_eq!(
        caught_up,
        vec![
            window(1_900, Some(1_000), 1_900),
            window(2_800, Some(1_900), 2_800),
            window(3_700, Some(2_800), 3_700),
        ]
    );
    assert_eq!(
        parsed.next_scheduled_after(Some(at(3_700))),
        Some(at(4_600))
    );
}

#[test]
fn max_caps_one_call_and_the_rest_follows() {
    let parsed = schedule(json!({"startTime": 0, "frequency": "hour", "interval": 1}));
    assert!(parsed.due_windows(None, at(36_000), 0).is_empty());
    let first_batch = parsed.due_windows(None, at(36_000), 4);
    assert_eq!(first_batch.len(), 4);
    let last_end = first_batch.last().map(|window| window.end);
    let second_batch = parsed.due_windows(last_end, at(36_000), 100);
    assert_eq!(second_batch.len(), 7);
    assert_eq!(second_batch[0].start, last_end);
    assert_eq!(second_batch[6].end, at(36_000));
}

#[test]
fn next_scheduled_after_is_strictly_after_the_last_end() {
    let parsed = schedule(json!({"startTime": 600, "frequency": "minute", "interval": 20}));
    let cases: Vec<(Option<i64>, Option<i64>)> = vec![
        (None, Some(600)),
        (Some(-5_000), Some(600)),
        (Some(599), Some(600)),
        (Some(600), Some(1_800)),
        (Some(601), Some(1_800)),
        (Some(1_799), Some(1_800)),
        (Some(1_800), Some(3_000)),
    ];
    for (last_end, expected) in cases {
        assert_eq!(
            parsed.next_scheduled_after(last_end.map(at)),
            expected.map(at),
            "last end {last_end:?}"
        );
    }
    let once = schedule(json!({"startTime": 600, "frequency": "once"}));
    assert_eq!(once.next_scheduled_after(None), Some(at(600)));
    assert_eq!(once.next_scheduled_after(Some(at(600))), None);
    assert!(
        once.due_windows(Some(at(600)), at(1_000_000), 10)
            .is_empty()
    );
}

#[test]
fn an_off_grid_last_end_still_chains_without_a_gap() {
    // The schedule was changed (PATCH /scheduleParams) after a window ending at 1_234: the
    // next window starts exactly there and ends on the new grid.
    let parsed = schedule(json!({"startTime": 0, "frequency": "hour", "interval": 1}));
    assert_eq!(
        parsed.due_windows(Some(at(1_234)), at(7_200), 10),
        vec![
            window(3_600, Some(1_234), 3_600),
            window(7_200, Some(3_600), 7_200)
        ]
    );
    // A start time moved into the future: nothing is due until then, and the gap up to it is
    // covered by the first window of the new grid.
    let moved = schedule(json!({"startTime": 90_000, "frequency": "day", "interval": 1}));
    assert!(
        moved
            .due_windows(Some(at(7_200)), at(89_999), 10)
            .is_empty()
    );
    assert_eq!(
        moved.due_windows(Some(at(7_200)), at(90_000), 10),
        vec![window(90_000, Some(7_200), 90_000)]
    );
}

#[test]
fn schedules_end_where_representable_time_ends() {
    let last_second = Timestamp::MAX.as_second();
    let parsed =
        schedule(json!({"startTime": last_second - 100, "frequency": "minute", "interval": 15}));
    assert_eq!(
        parsed.next_scheduled_after(None),
        Some(at(last_second - 100))
    );
    assert_eq!(
        parsed.next_scheduled_after(Some(at(last_second - 100))),
        None
    );
    let early =
        schedule(json!({"startTime": 10, "frequency": "week", "interval": 1, "backfill": false}));
    assert_eq!(
        early.first_window_start(),
        Some(at(10 - 7 * 86_400)),
        "a first window may start before 1970; only the schedule's own instants may not"
    );
}

/// `Ok((start, end))` in epoch seconds, or the problems as displayed.
type ExpectedAdhocWindow = Result<(Option<i64>, i64), Vec<&'static str>>;

#[test]
fn adhoc_windows_parse_leniently() {
    let cases: Vec<(Value, ExpectedAdhocWindow)> = vec![
        (
            json!({"windowStartTime": "1651584991", "windowEndTime": 1651588591}),
            Ok((Some(1651584991), 1651588591)),
        ),
        (
            json!({"windowEndTime": "1651588591"}),
            Ok((None, 1651588591)),
        ),
        (
            json!({"windowStartTime": null, "windowEndTime": 5, "deltaColumn": {"name": "DOB"}}),
            Ok((None, 5)),
        ),
        (
            json!({"windowStartTime": 5, "windowEndTime": "5"}),
            Err(vec![
                "/windowEndTime: must be after windowStartTime (5 is not after 5)",
            ]),
        ),
        (
            json!({"windowStartTime": 9}),
            Err(vec!["/windowEndTime: is required"]),
        ),
        (
            json!({"windowStartTime": "x", "windowEndTime": true}),
            Err(vec![
                "/windowStartTime: 'x' is neither an RFC 3339 instant (like 2024-01-01T00:00:00Z) nor epoch seconds",
                "/windowEndTime: must be an RFC 3339 instant (a string) or epoch seconds (a number), got true",
            ]),
        ),
        (
            json!({"windowStartTime": "2022-05-03T13:36:31Z", "windowEndTime": "1651588591"}),
            Ok((Some(1651584991), 1651588591)),
        ),
        (
            json!({"windowStartTime": 1651584991000_i64, "windowEndTime": "1651588591000"}),
            Err(vec![
                "/windowStartTime: 1651584991000 looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant",
                "/windowEndTime: 1651588591000 looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant",
            ]),
        ),
        (json!("1651584991"), Err(vec!["(root): must be an object"])),
    ];
    for (params, expected) in cases {
        let actual = adhoc_window(&params).map_err(|error| {
            error
                .problems()
                .iter()
                .map(FieldProblem::to_string)
                .collect::<Vec<_>>()
        });
        let expected = expected
            .map(|(start, end)| (start.map(at), at(end)))
            .map_err(|messages| messages.into_iter().map(String::from).collect::<Vec<_>>());
        assert_eq!(actual, expected, "{params}");
    }
}

/// SplitMix64: tiny, deterministic, good enough to spread test cases.
struct TestRandom(u64);

impl TestRandom {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: u64) -> i64 {
        i64::try_from(self.next() % bound).expect("bound fits i64")
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

/// A random `scheduleParams`, with numbers randomly sent as strings.
fn random_schedule_params(random: &mut TestRandom) -> Value {
    let frequency = Frequency::ALL[random.below(5) as usize];
    let start_time = 1_500_000_000 + random.below(300_000_000);
    let mut params = json!({"frequency": frequency.as_str()});
    params["startTime"] = if random.chance(2) {
        json!(start_time.to_string())
    } else {
        json!(start_time)
    };
    if frequency != Frequency::Once {
        let interval = 1 + random.below(52);
        params["interval"] = if random.chance(2) {
            json!(interval.to_string())
        } else {
            json!(interval)
        };
        match random.below(3) {
            0 => {}
            1 => params["backfill"] = json!(random.chance(2)),
            _ => params["backfill"] = json!(random.chance(2).to_string()),
        }
    }
    params
}

/// One simulated life of a flow: the scheduler wakes at arbitrary `now`s and creates runs for
/// whatever is due; every invariant is checked after every call.
fn simulate(seed: u64) {
    let mut random = TestRandom(seed);
    let params = random_schedule_params(&mut random);
    let parsed = schedule(params.clone());
    let context = format!("seed {seed}, {params}");
    let start_second = parsed.start_time().as_second();
    let period = parsed.recurrence().period_seconds().unwrap_or(3_600);

    let mut now_second = start_second - random.below(3 * period as u64);
    let mut last_end: Option<Timestamp> = None;
    let mut all_windows: Vec<ScheduledWindow> = Vec::new();
    for _ in 0..40 {
        now_second += match random.below(10) {
            0 => 0,
            1 => -random.below(period as u64), // the clock stepped back
            2 => 50 * period + random.below(97), // a long outage
            3 => period,
            4..=6 => random.below(period as u64),
            _ => random.below(5 * period as u64),
        };
        let now = at(now_second);
        let max = if random.chance(4) {
            usize::MAX
        } else {
            1 + random.below(8) as usize
        };
        let due = parsed.due_windows(last_end, now, max);
        assert!(due.len() <= max, "{context}: more than max");
        if let Some(first) = due.first() {
            assert_eq!(
                Some(first.scheduled_at),
                parsed.next_scheduled_after(last_end),
                "{context}: first due window is not the next scheduled one"
            );
        }
        for window in &due {
            assert_eq!(window.scheduled_at, window.end, "{context}");
            assert!(window.end <= now, "{context}: window ends after now");
            assert!(
                window.start.is_none_or(|start| start < window.end),
                "{context}: empty window {window:?}"
            );
            let expected_start = match all_windows.last() {
                Some(previous) => Some(previous.end),
                None => parsed.first_window_start(),
            };
            assert_eq!(window.start, expected_start, "{context}: gap or overlap");
            let offset = window.end.as_second() - start_second;
            assert!(
                offset >= 0 && offset % period == 0,
                "{context}: off the schedule's grid"
            );
            all_windows.push(*window);
        }
        last_end = all_windows.last().map(|window| window.end).or(last_end);
        if due.len() < max {
            assert!(
                parsed
                    .next_scheduled_after(last_end)
                    .is_none_or(|next| next > now),
                "{context}: a due window was left behind"
            );
        }
    }

    // Everything due by the latest instant has exactly one window: nothing skipped.
    let final_now = at(now_second.max(
        all_windows
            .last()
            .map_or(i64::MIN, |window| window.end.as_second()),
    ));
    all_windows.extend(parsed.due_windows(last_end, final_now, usize::MAX));
    let expected_count = match parsed.frequency() {
        Frequency::Once => usize::from(final_now >= parsed.start_time()),
        _ if final_now < parsed.start_time() => 0,
        _ => usize::try_from((final_now.as_second() - start_second) / period + 1).unwrap(),
    };
    assert_eq!(all_windows.len(), expected_count, "{context}: window count");
    for pair in all_windows.windows(2) {
        assert_eq!(
            pair[1].start,
            Some(pair[0].end),
            "{context}: not contiguous"
        );
    }
}

#[test]
fn random_schedules_with_downtime_yield_contiguous_windows() {
    for seed in 0..3_000 {
        simulate(seed);
    }
}

#[test]
fn once_yields_exactly_one_window_whatever_the_wake_ups() {
    let parsed = schedule(json!({"startTime": "5000", "frequency": "once"}));
    let mut last_end = None;
    let mut windows = Vec::new();
    for now_second in [0, 4_999, 5_000, 5_000, 9_000, 1_000_000_000] {
        let due = parsed.due_windows(last_end, at(now_second), usize::MAX);
        last_end = due.last().map(|window| window.end).or(last_end);
        windows.extend(due);
    }
    assert_eq!(windows, vec![window(5_000, None, 5_000)]);
}
