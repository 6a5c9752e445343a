/** What every suite gets from bench/run.ts. */
export interface SuiteContext {
  /** One round and shorter windows. */
  quick: boolean
  rounds: number
  /** Run the measured processes under `node --cpu-prof` and summarise the profiles. */
  profile: boolean
  /** Forward the children's output. */
  verbose: boolean
  /** Where raw results and profiles go (gitignored). */
  resultsDir: string
  /** Progress output (stderr), not part of the report. */
  log(line: string): void
}

/** A suite's output: report text for stdout, raw data for the results file. */
export interface SuiteReport {
  text: string
  raw: unknown
}

/** A group of scenarios run by bench/run.ts (the Grape suite now; RPC suites later). */
export interface Suite {
  name: string
  description: string
  /** Runs only when named with `--suite` (a long run that measures no ratio: the soak). */
  onlyWhenNamed?: boolean
  /** An upper bound on the suite's duration, for the orchestrator's hard deadline. */
  budgetMs(context: Pick<SuiteContext, 'quick' | 'rounds'>): number
  run(context: SuiteContext): Promise<SuiteReport>
}
