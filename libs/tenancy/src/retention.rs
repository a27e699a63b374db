//! How long a tenant keeps a client's data after their cases close
//! (`PUT /v1/tenants/{id}/retention`): clients whose cases are all closed are erased that
//! long after the last one closed, once a grace period in the report has passed.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// ISO 8601, in years, months, weeks or days: "P6Y", "P18M", "P90D".
    pub erase_closed_cases_after: String,
    /// How long a client stays in the retention report, due, before casewire erases them
    /// (ISO 8601, as above): time to place a legal hold. P30D when left out.
    #[serde(default = "default_grace")]
    pub grace: String,
}

fn default_grace() -> String {
    "P30D".to_string()
}

/// A period of the calendar: months (a year is twelve) and days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    months: u32,
    days: u64,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, String> {
        let bad = || format!("{s:?} is not a period such as P6Y, P18M, P12W or P90D");
        match iso8601::duration(s).map_err(|_| bad())? {
            iso8601::Duration::Weeks(w) => Ok(Period {
                months: 0,
                days: u64::from(w) * 7,
            }),
            iso8601::Duration::YMDHMS {
                year,
                month,
                day,
                hour: 0,
                minute: 0,
                second: 0,
                millisecond: 0,
            } if year <= 100 => Ok(Period {
                months: year * 12 + month,
                days: u64::from(day),
            }),
            _ => Err(bad()),
        }
    }

    /// The day this period after `date`.
    pub fn after(self, date: NaiveDate) -> NaiveDate {
        (date + Months::new(self.months)) + chrono::Days::new(self.days)
    }
}

impl Retention {
    /// The policy as kept, or what is wrong with it.
    pub fn validate(self) -> Result<Retention, String> {
        Period::parse(&self.erase_closed_cases_after)
            .map_err(|e| format!("erase_closed_cases_after: {e}"))?;
        Period::parse(&self.grace).map_err(|e| format!("grace: {e}"))?;
        Ok(self)
    }

    /// The day a client whose last case closed on `closed` becomes due, and the day they
    /// are erased.
    pub fn dates(&self, closed: NaiveDate) -> (NaiveDate, NaiveDate) {
        let period = Period::parse(&self.erase_closed_cases_after).unwrap_or(Period {
            months: 1200,
            days: 0,
        });
        let grace = Period::parse(&self.grace).unwrap_or(Period { months: 1, days: 0 });
        let due = period.after(closed);
        (due, grace.after(due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_count_calendar_years_months_and_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            Period::parse("P6Y").unwrap().after(d("2019-02-28")),
            d("2025-02-28")
        );
        assert_eq!(
            Period::parse("P1M").unwrap().after(d("2026-01-31")),
            d("2026-02-28")
        );
        assert_eq!(
            Period::parse("P2W").unwrap().after(d("2026-01-01")),
            d("2026-01-15")
        );
        assert!(
            Period::parse("PT4H").is_err(),
            "hours are not a retention period"
        );
        assert!(Period::parse("six years").is_err());
        let r = Retention {
            erase_closed_cases_after: "P6Y".into(),
            grace: "P30D".into(),
        };
        assert_eq!(r.dates(d("2019-06-01")), (d("2025-06-01"), d("2025-07-01")));
        assert!(Retention {
            grace: "soon".into(),
            ..r
        }
        .validate()
        .is_err());
    }
}
