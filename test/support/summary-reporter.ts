/**
 * The spec reporter plus one closing line, "N passed, N failed, N skipped", that CI reads the
 * outcome from whatever runner printed it.
 */
import Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
            const stats = this.stats;
            console.log(`${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped`);
        });
    }
}

export = SummaryReporter;
