//! Markdown tables: each column's header and the way a row fills its cell are defined together,
//! so a header cannot drift from its rows. Cells are written as they are (no padding: GitHub
//! renders the same table, and a diff of a report shows the changed values, not realigned
//! columns); an empty cell is written `| |`.
//!
//! May touch: nothing else in the crate.

/// A column: its header and its cell for a row.
struct Column<'a, R> {
    header: String,
    cell: Box<dyn Fn(&R) -> String + 'a>,
}

/// A Markdown table over rows of type `R`, built column by column.
pub struct Table<'a, R> {
    columns: Vec<Column<'a, R>>,
}

impl<R> Default for Table<'_, R> {
    fn default() -> Self {
        Table {
            columns: Vec::new(),
        }
    }
}

impl<'a, R> Table<'a, R> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column.
    pub fn column(mut self, header: impl Into<String>, cell: impl Fn(&R) -> String + 'a) -> Self {
        self.columns.push(Column {
            header: header.into(),
            cell: Box::new(cell),
        });
        self
    }

    /// Adds a column when `shown`.
    pub fn column_if(
        self,
        shown: bool,
        header: impl Into<String>,
        cell: impl Fn(&R) -> String + 'a,
    ) -> Self {
        if shown {
            self.column(header, cell)
        } else {
            self
        }
    }

    /// The header, the separator and one line per row, each ending in a newline.
    pub fn render<'r>(&self, rows: impl IntoIterator<Item = &'r R>) -> String
    where
        R: 'r,
    {
        let mut s = line(self.columns.iter().map(|c| c.header.clone()));
        s.push_str(&"|---".repeat(self.columns.len()));
        s.push_str("|\n");
        for row in rows {
            s.push_str(&line(self.columns.iter().map(|c| (c.cell)(row))));
        }
        s
    }
}

impl<const N: usize> Table<'static, [String; N]> {
    /// A table whose rows are their cells, in the order of `headers` (for tables whose rows
    /// differ in kind, such as a report's summary rows under its per-digit rows).
    pub fn positional(headers: [&str; N]) -> Self {
        let mut table = Table::new();
        for (i, header) in headers.into_iter().enumerate() {
            table = table.column(header, move |row: &[String; N]| row[i].clone());
        }
        table
    }
}

/// One table line from its cells.
fn line(cells: impl Iterator<Item = String>) -> String {
    let mut s = String::new();
    for cell in cells {
        if cell.is_empty() {
            s.push_str("| ");
        } else {
            s.push_str("| ");
            s.push_str(&cell);
            s.push(' ');
        }
    }
    s.push_str("|\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_cells_come_from_the_same_columns() {
        let rows = [(1, "a"), (22, "")];
        let table = Table::new()
            .column("n", |r: &(i32, &str)| r.0.to_string())
            .column_if(false, "hidden", |_| unreachable!())
            .column("name", |r| r.1.to_string());
        assert_eq!(
            table.render(&rows),
            "| n | name |\n|---|---|\n| 1 | a |\n| 22 | |\n"
        );
    }

    #[test]
    fn positional_rows_fill_the_columns_in_order() {
        let rows = [["a".to_string(), "b".to_string()]];
        assert_eq!(
            Table::positional(["x", "y"]).render(&rows),
            "| x | y |\n|---|---|\n| a | b |\n"
        );
    }

    #[test]
    fn a_table_without_rows_is_its_header() {
        let table = Table::<()>::new().column("only", |_| String::new());
        assert_eq!(table.render(&[]), "| only |\n|---|\n");
    }
}
