//! The sidebar's groups: Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, then one
//! per month, all in the browser's time zone. Pure: the caller passes each instant's offset.

use crate::time::{self, Millis};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Group {
    Pinned,
    Today,
    Yesterday,
    Previous7Days,
    Previous30Days,
    Month { year: i64, month: u32 },
}

impl Group {
    /// The heading; the year is left out for months of the current year, as people say it.
    pub fn label(&self, current_year: i64) -> String {
        match self {
            Self::Pinned => "Pinned".to_owned(),
            Self::Today => "Today".to_owned(),
            Self::Yesterday => "Yesterday".to_owned(),
            Self::Previous7Days => "Previous 7 days".to_owned(),
            Self::Previous30Days => "Previous 30 days".to_owned(),
            Self::Month { year, month } => {
                let name = time::MONTHS[(*month - 1) as usize];
                if *year == current_year {
                    name.to_owned()
                } else {
                    format!("{name} {year}")
                }
            }
        }
    }
}

/// The group of an unpinned conversation last active at `at`. Offsets are JavaScript's
/// (`getTimezoneOffset()` at that instant), so a daylight-saving change between the two
/// instants is handled. A time in the future (a skewed clock) counts as today.
pub fn group_of(at: Millis, at_offset: i64, now: Millis, now_offset: i64) -> Group {
    let day = time::local_day(at, at_offset);
    let today = time::local_day(now, now_offset);
    match today - day {
        i64::MIN..=0 => Group::Today,
        1 => Group::Yesterday,
        2..=7 => Group::Previous7Days,
        8..=30 => Group::Previous30Days,
        _ => {
            let (year, month, _) = time::civil_from_days(day);
            Group::Month { year, month }
        }
    }
}

/// Splits items (already newest first) into consecutive groups, keeping their order.
pub fn group_items<T: Clone>(
    items: &[T],
    pinned: impl Fn(&T) -> bool,
    group: impl Fn(&T) -> Group,
) -> Vec<(Group, Vec<T>)> {
    let mut out: Vec<(Group, Vec<T>)> = Vec::new();
    let pinned_items: Vec<T> = items.iter().filter(|i| pinned(i)).cloned().collect();
    if !pinned_items.is_empty() {
        out.push((Group::Pinned, pinned_items));
    }
    for item in items.iter().filter(|i| !pinned(i)) {
        let g = group(item);
        match out.last_mut() {
            Some((last, members)) if *last == g => members.push(item.clone()),
            _ => out.push((g, vec![item.clone()])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn at(s: &str) -> Millis {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn groups_by_local_day_counted_back_from_today() {
        let now = at("2026-12-15T12:00:00Z");
        let g = |s: &str| group_of(at(s), 0, now, 0);
        assert_eq!(g("2026-12-15T00:00:00Z"), Group::Today);
        assert_eq!(g("2026-12-14T23:59:59Z"), Group::Yesterday);
        assert_eq!(g("2026-12-13T10:00:00Z"), Group::Previous7Days);
        assert_eq!(g("2026-12-08T00:00:00Z"), Group::Previous7Days);
        assert_eq!(g("2026-12-07T23:00:00Z"), Group::Previous30Days);
        assert_eq!(g("2026-11-15T00:00:00Z"), Group::Previous30Days);
        assert_eq!(
            g("2026-11-14T23:00:00Z"),
            Group::Month {
                year: 2026,
                month: 11
            }
        );
        assert_eq!(
            g("2025-03-01T00:00:00Z"),
            Group::Month {
                year: 2025,
                month: 3
            }
        );
        assert_eq!(g("2026-12-16T09:00:00Z"), Group::Today, "clock skew");
    }

    #[test]
    fn midnight_falls_where_the_reader_lives() {
        // 23:30 UTC on 14 Dec, seen at 00:10 UTC on 15 Dec.
        let then = at("2026-12-14T23:30:00Z");
        let now = at("2026-12-15T00:10:00Z");
        assert_eq!(group_of(then, 0, now, 0), Group::Yesterday, "London");
        // Tokyo (UTC+9): both instants are on 15 Dec.
        assert_eq!(group_of(then, -540, now, -540), Group::Today, "Tokyo");
        // New York (UTC-5): both are on 14 Dec.
        assert_eq!(group_of(then, 300, now, 300), Group::Today, "New York");
        // Kiritimati (UTC+14) and Baker Island (UTC-12) agree with themselves, too.
        assert_eq!(group_of(then, -840, now, -840), Group::Today);
        assert_eq!(group_of(then, 720, now, 720), Group::Today);
    }

    #[test]
    fn a_daylight_saving_change_between_the_instants_is_respected() {
        // Berlin: on 29 Mar 2026 02:00 CET becomes 03:00 CEST. 23:30 CET on the 28th, seen
        // from 00:30 CEST on the 30th, is two local days back.
        let then = at("2026-03-28T22:30:00Z"); // 23:30 CET (UTC+1)
        let now = at("2026-03-29T22:30:00Z"); // 00:30 CEST (UTC+2) on the 30th
        assert_eq!(group_of(then, -60, now, -120), Group::Previous7Days);
        let just_after = at("2026-03-29T00:30:00Z"); // 01:30 CET on the 29th
        assert_eq!(group_of(then, -60, just_after, -60), Group::Yesterday);
    }

    #[test]
    fn labels_leave_out_the_current_year() {
        let nov = Group::Month {
            year: 2026,
            month: 11,
        };
        assert_eq!(nov.label(2026), "November");
        assert_eq!(nov.label(2027), "November 2026");
        assert_eq!(Group::Previous7Days.label(2026), "Previous 7 days");
    }

    #[test]
    fn pinned_items_come_first_and_the_rest_keep_their_order() {
        let items = [
            ("a", false, 0),
            ("b", true, 0),
            ("c", false, 1),
            ("d", false, 0),
        ];
        let groups = group_items(
            &items,
            |i| i.1,
            |i| {
                if i.2 == 0 {
                    Group::Today
                } else {
                    Group::Yesterday
                }
            },
        );
        let names: Vec<(Group, Vec<&str>)> = groups
            .into_iter()
            .map(|(g, m)| (g, m.iter().map(|i| i.0).collect()))
            .collect();
        assert_eq!(
            names,
            [
                (Group::Pinned, vec!["b"]),
                (Group::Today, vec!["a"]),
                (Group::Yesterday, vec!["c"]),
                (Group::Today, vec!["d"]),
            ]
        );
    }
}
