//! Dates: ISO `YYYY-MM-DD` and the instance's own format (`Schema::date_format`, such as
//! `%e/%b/%y`), read leniently and written in the instance's format with the day
//! zero-padded, as the CRM itself renders dates (see docs/api-notes.md, "Date format").
//!
//! Only the directives CRM date formats use are understood: `%d %e %m %b %B %y %Y`; any
//! other character is a literal. Two-digit years pivot as the CRM does (`69`–`99` → 19xx,
//! `00`–`68` → 20xx), so such a format can only hold dates from 1969 to 2068.
//!
//! It knows dates only: which attribute is a date and what a message says is `check`'s job.

use chrono::{Datelike, NaiveDate};

use super::ShortText;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Day,
    Month,
    MonthAbbr,
    MonthName,
    Year2,
    Year4,
    Literal(char),
}

/// An instance date format, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    spec: String,
    items: Vec<Item>,
}

/// Why a text is not a usable date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Neither ISO nor the instance format, or no such day.
    NotADate,
    /// A real date the instance's two-digit-year format cannot hold.
    OutOfRange(NaiveDate),
}

impl DateFormat {
    pub fn new(spec: &str) -> DateFormat {
        let mut items = Vec::new();
        let mut chars = spec.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                items.push(Item::Literal(c));
                continue;
            }
            let item = match chars.next() {
                Some('d') | Some('e') => Item::Day,
                Some('m') => Item::Month,
                Some('b') | Some('h') => Item::MonthAbbr,
                Some('B') => Item::MonthName,
                Some('y') => Item::Year2,
                Some('Y') => Item::Year4,
                Some(other) => Item::Literal(other),
                None => Item::Literal('%'),
            };
            items.push(item);
        }
        DateFormat {
            spec: spec.to_string(),
            items,
        }
    }

    /// The format as the instance reports it (`%e/%b/%y`).
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// Whether years are written with two digits (and dates limited to 1969–2068).
    pub fn two_digit_year(&self) -> bool {
        self.items.contains(&Item::Year2)
    }

    /// Reads ISO `YYYY-MM-DD` or the instance format; checks that the instance can hold it.
    pub fn read(&self, text: &str) -> Result<NaiveDate, DateError> {
        let text = text.trim();
        let date = parse_iso(text)
            .or_else(|| self.parse(text))
            .ok_or(DateError::NotADate)?;
        if self.two_digit_year() && !(1969..=2068).contains(&date.year()) {
            return Err(DateError::OutOfRange(date));
        }
        Ok(date)
    }

    /// Writes a date in the instance format, day zero-padded (`07/May/20`).
    pub fn write(&self, date: NaiveDate) -> String {
        let mut out = String::with_capacity(12);
        self.render(date, &mut out);
        out
    }

    /// Like [`write`](Self::write), kept inline; `None` for a format too long for that.
    pub fn write_short(&self, date: NaiveDate) -> Option<ShortText> {
        let mut buffer = Buffer::default();
        self.render(date, &mut buffer);
        ShortText::new(buffer.as_str()?)
    }

    fn render(&self, date: NaiveDate, out: &mut impl Out) {
        for item in &self.items {
            match item {
                Item::Day => push_two(out, date.day()),
                Item::Month => push_two(out, date.month()),
                Item::MonthAbbr => out.push_str(&MONTHS[date.month0() as usize][..3]),
                Item::MonthName => out.push_str(MONTHS[date.month0() as usize]),
                Item::Year2 => push_two(out, date.year().rem_euclid(100) as u32),
                Item::Year4 => {
                    let year = date.year();
                    if (0..10_000).contains(&year) {
                        push_two(out, (year / 100) as u32);
                        push_two(out, (year % 100) as u32);
                    } else {
                        out.push_str(&format!("{year:04}"));
                    }
                }
                Item::Literal(c) => out.push(*c),
            }
        }
    }

    /// An example in this format, for messages.
    pub fn example(&self) -> String {
        self.write(NaiveDate::from_ymd_opt(2020, 5, 7).expect("a valid constant date"))
    }

    /// Reads `text` in this format only (no ISO, no range check). The export reads stored
    /// values with it too, so the client side has one reader of the instance format.
    pub fn parse(&self, text: &str) -> Option<NaiveDate> {
        let mut rest = text;
        let (mut day, mut month, mut year) = (None, None, None);
        for item in &self.items {
            match item {
                Item::Literal(c) => rest = rest.strip_prefix(*c)?,
                Item::Day => day = Some(take_number(&mut rest, 1, 2)?),
                Item::Month => month = Some(take_number(&mut rest, 1, 2)?),
                Item::MonthAbbr | Item::MonthName => month = Some(take_month(&mut rest)?),
                Item::Year4 => year = Some(take_number(&mut rest, 4, 4)? as i32),
                Item::Year2 => {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    year = Some(match digits {
                        2 => pivot(take_number(&mut rest, 2, 2)?),
                        4 => take_number(&mut rest, 4, 4)? as i32,
                        _ => return None,
                    });
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        NaiveDate::from_ymd_opt(year?, month?, day?)
    }
}

fn pivot(two_digits: u32) -> i32 {
    if two_digits >= 69 {
        1900 + two_digits as i32
    } else {
        2000 + two_digits as i32
    }
}

/// Where [`DateFormat::render`] writes: a `String`, or a stack buffer.
trait Out {
    fn push(&mut self, c: char);
    fn push_str(&mut self, s: &str);
}

impl Out for String {
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
}

/// A stack buffer of [`ShortText::CAPACITY`] bytes that notes when a text overflowed it.
struct Buffer {
    bytes: [u8; ShortText::CAPACITY],
    len: usize,
    overflow: bool,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer {
            bytes: [0; ShortText::CAPACITY],
            len: 0,
            overflow: false,
        }
    }
}

impl Buffer {
    fn as_str(&self) -> Option<&str> {
        if self.overflow {
            return None;
        }
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

impl Out for Buffer {
    fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }
    fn push_str(&mut self, s: &str) {
        match self.bytes.get_mut(self.len..self.len + s.len()) {
            Some(room) => {
                room.copy_from_slice(s.as_bytes());
                self.len += s.len();
            }
            None => self.overflow = true,
        }
    }
}

fn push_two(out: &mut impl Out, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

fn take_number(rest: &mut &str, min: usize, max: usize) -> Option<u32> {
    let digits = rest
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if digits < min {
        return None;
    }
    let n = rest[..digits].parse().ok()?;
    *rest = &rest[digits..];
    Some(n)
}

/// A month name or its three-letter abbreviation, any case.
fn take_month(rest: &mut &str) -> Option<u32> {
    let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    let word = &rest[..letters];
    let position = MONTHS.iter().position(|m| {
        word.len() >= 3
            && (m.eq_ignore_ascii_case(word)
                || (word.len() == 3 && m[..3].eq_ignore_ascii_case(word)))
    })?;
    *rest = &rest[letters..];
    Some(position as u32 + 1)
}

/// `YYYY-MM-DD`.
pub fn parse_iso(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = text[..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..].parse().ok()?;
    if !text[..4]
        .bytes()
        .chain(text[5..7].bytes())
        .chain(text[8..].bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn reads_iso_and_instance_format() {
        let f = DateFormat::new("%e/%b/%y");
        assert_eq!(f.read("2020-05-07"), Ok(ymd(2020, 5, 7)));
        assert_eq!(f.read("7/May/20"), Ok(ymd(2020, 5, 7)));
        assert_eq!(f.read(" 07/may/20 "), Ok(ymd(2020, 5, 7)));
        assert_eq!(f.read("31/Dec/69"), Ok(ymd(1969, 12, 31)));
        assert_eq!(f.read("1/Jan/68"), Ok(ymd(2068, 1, 1)));
        assert_eq!(f.read("31/Feb/20"), Err(DateError::NotADate));
        assert_eq!(f.read("2020-13-01"), Err(DateError::NotADate));
        assert_eq!(
            f.read("1960-01-01"),
            Err(DateError::OutOfRange(ymd(1960, 1, 1)))
        );
        assert_eq!(f.write(ymd(2020, 5, 7)), "07/May/20");
        assert_eq!(f.write(ymd(1999, 12, 31)), "31/Dec/99");
    }

    #[test]
    fn four_digit_formats_have_no_range_limit() {
        let f = DateFormat::new("%d.%m.%Y");
        assert_eq!(f.read("07.05.1920"), Ok(ymd(1920, 5, 7)));
        assert_eq!(f.write(ymd(1920, 5, 7)), "07.05.1920");
    }
}
