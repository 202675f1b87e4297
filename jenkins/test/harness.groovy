// Test harness for the `tollgateScan` step without Jenkins: runs vars/tollgateScan.groovy with
// the pipeline steps it uses mocked (sh runs for real; junit, archiveArtifacts, readJSON,
// withCredentials, error, unstable and currentBuild behave like Jenkins' for what the step
// needs), then prints one JSON object describing what happened.
//
//   groovy jenkins/test/harness.groovy STEP.groovy WORKDIR 'ARGS-AS-JSON'
//
// Output: {"result": SUCCESS|UNSTABLE|FAILURE, "error": msg|null, "unstable": [msgs],
//          "archived": [patterns], "archivedFiles": [paths], "junit": [{testResults, ...}],
//          "returned": map|null}
// Used by tests/e2e/ci_integrations.rs; not part of the shared library itself.

import groovy.json.JsonOutput
import groovy.json.JsonSlurper

class StepFailed extends RuntimeException {
    StepFailed(String m) { super(m) }
}

def stepFile = new File(args[0])
def workdir = new File(args[1])
def stepArgs = new JsonSlurper().parseText(args[2])

def order = ['SUCCESS', 'UNSTABLE', 'FAILURE']
def build = [result: 'SUCCESS']
def worsen = { String r ->
    if (order.indexOf(r) > order.indexOf(build.result)) { build.result = r }
}
def record = [error: null, unstable: [], archived: [], archivedFiles: [], junit: [], returned: null]

def binding = new Binding()
binding.setVariable('currentBuild', build)
binding.setVariable('sh', { Map a ->
    def p = new ProcessBuilder('sh', '-c', a.script).directory(workdir).redirectErrorStream(true).start()
    p.inputStream.eachLine { System.err.println(it) }
    def code = p.waitFor()
    if (a.returnStatus) { return code }
    if (code != 0) { throw new StepFailed("script returned exit code ${code}") }
    return null
})
binding.setVariable('archiveArtifacts', { Map a ->
    record.archived << a.artifacts
    def prefix = a.artifacts.replace('/**', '/')
    workdir.eachFileRecurse { f ->
        def rel = workdir.toPath().relativize(f.toPath()).toString()
        if (f.isFile() && rel.startsWith(prefix)) { record.archivedFiles << rel }
    }
    if (record.archivedFiles.isEmpty() && !a.allowEmptyArchive) {
        throw new StepFailed('No artifacts found that match the file pattern')
    }
})
binding.setVariable('junit', { Map a ->
    record.junit << a
    def f = new File(workdir, a.testResults)
    if (!f.isFile()) {
        if (a.allowEmptyResults) { return [totalCount: 0, failCount: 0] }
        throw new StepFailed('No test report files were found. Configuration error?')
    }
    def xml = new XmlSlurper().parse(f)
    def cases = xml.'**'.findAll { it.name() == 'testcase' }
    if (cases.isEmpty() && !a.allowEmptyResults) {
        throw new StepFailed('None of the test reports contained any result')
    }
    def failed = cases.count { c -> c.children().any { it.name() in ['failure', 'error'] } }
    if (failed > 0 && !a.skipMarkingBuildUnstable) { worsen('UNSTABLE') }
    return [totalCount: cases.size(), failCount: failed]
})
binding.setVariable('readJSON', { Map a -> new JsonSlurper().parse(new File(workdir, a.file)) })
binding.setVariable('usernamePassword', { Map a -> a })
binding.setVariable('withCredentials', { List creds, Closure body -> body() })
binding.setVariable('error', { String m -> throw new StepFailed(m) })
binding.setVariable('unstable', { String m -> record.unstable << m; worsen('UNSTABLE') })

def shell = new GroovyShell(binding)
def step = shell.parse(stepFile)
try {
    record.returned = step.call(stepArgs)
} catch (StepFailed e) {
    record.error = e.message
    worsen('FAILURE')
}
record.result = build.result
println JsonOutput.toJson(record)
