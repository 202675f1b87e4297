// Tollgate pipeline step (Jenkins shared library, global variable `tollgateScan`).
//
//   tollgateScan image: 'registry.example.com/app:1.2', policy: '.tollgate/policy.json', failOn: 'high'
//
// Runs `tollgate scan`, archives the reports, publishes JUnit (one test case per policy rule),
// then maps the decision to the build result: policy STOP / --fail-on -> FAILURE (configurable),
// policy WARN -> UNSTABLE (configurable). Reports are always archived before the result is set.
// Returns a map: [decision: 'pass'|'fail', exitCode: 0|1, warn: true|false, reportDir: '...'].

def call(Map args = [:]) {
    if (!args.image) {
        error('tollgateScan: the `image` parameter is required')
    }
    def cfg = [
        tollgate        : 'tollgate',             // binary name or path
        policy          : '',
        failOn          : '',                     // negligible|low|medium|high|critical
        onlyFixed       : false,
        failOnWarn      : false,
        dockerfile      : '',
        vex             : [],
        db              : '',
        reportDir       : 'tollgate-reports',
        formats         : [],                     // extra 'FORMAT=FILE' reports
        stopResult      : 'FAILURE',              // build result on gate failure (FAILURE|UNSTABLE)
        warnResult      : 'UNSTABLE',             // build result on policy WARN (UNSTABLE|SUCCESS)
        archive         : true,
        junit           : true,
        credentialsId   : '',                     // username/password credentials for the registry
    ] + args

    def dir = cfg.reportDir
    def q = { String s -> "'" + s.replace("'", "'\"'\"'") + "'" }
    def cmd = [q(cfg.tollgate), 'scan', q(cfg.image),
               '-o', q("json=${dir}/analysis.json"),
               '-o', q("junit=${dir}/junit.xml"),
               '-o', q("sarif=${dir}/tollgate.sarif"),
               '-o', q("markdown=${dir}/summary.md"),
               '-o', 'table']
    if (cfg.policy) { cmd += ['--policy', q(cfg.policy)] }
    if (cfg.failOn) { cmd += ['--fail-on', q(cfg.failOn)] }
    if (cfg.onlyFixed) { cmd += ['--only-fixed'] }
    if (cfg.failOnWarn) { cmd += ['--fail-on-warn'] }
    if (cfg.dockerfile) { cmd += ['--dockerfile', q(cfg.dockerfile)] }
    if (cfg.db) { cmd += ['--db', q(cfg.db)] }
    cfg.vex.each { v -> cmd += ['--vex', q(v)] }
    cfg.formats.each { f -> cmd += ['-o', q(f)] }
    def script = "mkdir -p ${q(dir)} && " + cmd.join(' ')

    def code
    if (cfg.credentialsId) {
        withCredentials([usernamePassword(credentialsId: cfg.credentialsId,
                usernameVariable: 'TOLLGATE_REGISTRY_USERNAME',
                passwordVariable: 'TOLLGATE_REGISTRY_PASSWORD')]) {
            code = sh(script: script, returnStatus: true)
        }
    } else {
        code = sh(script: script, returnStatus: true)
    }

    // Reports first, so they are kept whatever the decision.
    if (cfg.archive) {
        archiveArtifacts(artifacts: "${dir}/**", allowEmptyArchive: true)
    }
    if (code >= 2) {
        error("tollgateScan: tollgate failed with exit code ${code}; see the log above")
    }
    if (cfg.junit) {
        // A JUnit failure alone would only make the build UNSTABLE; the result is set below.
        junit(testResults: "${dir}/junit.xml", allowEmptyResults: false, skipMarkingBuildUnstable: true)
    }

    def analysis = readJSON(file: "${dir}/analysis.json")
    def finalAction = analysis?.evaluation?.final_action ?: 'GO'
    def warn = (finalAction == 'WARN')
    if (code == 1) {
        def msg = "tollgateScan: ${cfg.image} failed the gate (policy ${finalAction}${cfg.failOn ? ', fail-on ' + cfg.failOn : ''})"
        if (cfg.stopResult == 'FAILURE') {
            error(msg)
        }
        unstable(msg)
    } else if (warn && cfg.warnResult == 'UNSTABLE') {
        unstable("tollgateScan: ${cfg.image}: policy WARN")
    }
    return [decision: code == 0 ? 'pass' : 'fail', exitCode: code, warn: warn, reportDir: dir]
}
