import Checks
import Storage

/// What a report shows, whichever format renders it: the runs' summaries (one run, or an A/B
/// run's baseline then candidate), the comparison's verdict, the thresholds judged, and what
/// some formats draw besides (a load group, a run's per-second series, the HTML charts' data,
/// the trials a CSV lists). `ttfa run`, `ttfa report` and `ttfa compare` build one and hand it
/// to the renderers their flags ask for.
package struct Report: Sendable {
    /// One run; an A/B run's baseline then candidate; none for `compare` of two files.
    package var summaries: [RunSummary]
    /// Each summary's health (what JUnit's per-transport cases judge), in the same order.
    package var healths: [RunHealth]
    /// An A/B run's or `compare`'s regression check.
    package var check: RegressionCheck?
    /// The thresholds judged on the last summary.
    package var thresholds: [ThresholdResult]
    /// Where the runs are stored (the JSON's `database`).
    package var database: String
    /// A load group's runs, merged into the one summary.
    package var group: LoadGroup?
    /// The run's per-second load series (JSON).
    package var series: [SeriesRecord]
    /// What the HTML report draws: the run's (or the candidate's) trials and timelines, and the
    /// run overlaid on it.
    package var charts: (run: ReportData, baseline: ReportData?)?
    /// The trials a CSV lists.
    package var trials: [TrialRecord]
    /// When the report was made (JUnit's `timestamp`).
    package var timestamp: String

    package init(
        summaries: [RunSummary], healths: [RunHealth] = [], check: RegressionCheck? = nil,
        thresholds: [ThresholdResult] = [],
        database: String = "", group: LoadGroup? = nil, series: [SeriesRecord] = [],
        charts: (run: ReportData, baseline: ReportData?)? = nil, trials: [TrialRecord] = [],
        timestamp: String = OutputFiles.junitTimestamp()
    ) {
        self.summaries = summaries
        self.healths = healths
        self.check = check
        self.thresholds = thresholds
        self.database = database
        self.group = group
        self.series = series
        self.charts = charts
        self.trials = trials
        self.timestamp = timestamp
    }
}

/// One output format: turns a `Report` into the format's text. Adding a format is a file with
/// one of these and a case of `ReportFormat`.
package protocol ReportRenderer: Sendable {
    func render(_ report: Report) -> String
}

/// The formats ttfa writes, each with its renderer.
package enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, csv, markdown, junit, html
    /// The metric families of `ttfa monitor`, for one run.
    case openmetrics, prometheus

    package var renderer: any ReportRenderer {
        switch self {
        case .table: TableRenderer()
        case .json: JSONRenderer()
        case .csv: CSVRenderer()
        case .markdown: MarkdownRenderer()
        case .junit: JUnitRenderer()
        case .html: HTMLRenderer()
        case .openmetrics: MetricsRenderer(format: .openMetrics)
        case .prometheus: MetricsRenderer(format: .prometheus)
        }
    }
}
