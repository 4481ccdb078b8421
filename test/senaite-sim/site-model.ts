/**
 * The workflows of the modelled portal types (SC v2.5.0
 * `profiles/default/workflows/<name>/definition.xml`, reduced to the states and
 * transitions the simulator plays): state → action → next state, and which
 * workflow each type follows. Guards and cascades live in workflow.ts.
 */

export type WorkflowName = 'deactivable' | 'sample' | 'analysis' | 'worksheet' | 'batch' | 'one-state'

/** The workflow each modelled type follows. */
export const WORKFLOW_OF: Readonly<Record<string, WorkflowName>> = {
  LabContact: 'deactivable',
  Department: 'deactivable',
  AnalysisCategory: 'deactivable',
  Method: 'deactivable',
  Calculation: 'deactivable',
  AnalysisService: 'deactivable',
  SampleType: 'deactivable',
  AttachmentType: 'deactivable',
  Client: 'deactivable',
  Contact: 'deactivable',
  Batch: 'batch',
  AnalysisRequest: 'sample',
  Analysis: 'analysis',
  Worksheet: 'worksheet',
  Attachment: 'one-state'
}

/** Workflows: state → action → next state. */
export const WORKFLOWS: Record<WorkflowName, { initial: string, transitions: Record<string, Record<string, string>> }> = {
  deactivable: { initial: 'active', transitions: { active: { deactivate: 'inactive' }, inactive: { activate: 'active' } } },
  sample: {
    initial: 'sample_registered',
    transitions: {
      sample_registered: { no_sampling_workflow: 'sample_due' },
      sample_due: { receive: 'sample_received', cancel: 'cancelled', reject: 'rejected' },
      sample_received: { submit: 'to_be_verified', invalidate: 'invalid' },
      to_be_verified: { verify: 'verified' },
      verified: { publish: 'published', invalidate: 'invalid' },
      published: { invalidate: 'invalid' },
      cancelled: { reinstate: 'sample_due' }
    }
  },
  analysis: {
    initial: 'registered',
    transitions: {
      registered: { initialize: 'unassigned' },
      unassigned: { assign: 'assigned', submit: 'to_be_verified' },
      assigned: { unassign: 'unassigned', submit: 'to_be_verified' },
      to_be_verified: { verify: 'verified', retract: 'retracted' },
      verified: { publish: 'published' }
    }
  },
  worksheet: { initial: 'open', transitions: { open: { submit: 'to_be_verified' }, to_be_verified: { verify: 'verified', retract: 'open' } } },
  batch: { initial: 'open', transitions: { open: { close: 'closed', cancel: 'cancelled' }, closed: { open: 'open' } } },
  'one-state': { initial: 'active', transitions: {} }
}
