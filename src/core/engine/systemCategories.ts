/** Flowkeeper's built-in category tree, present in every user. */
export const SYSTEM_CATEGORIES: ReadonlyArray<
  readonly [string, string, ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [string, string]>]>]
> = [
  [
    '#workitem_groups',
    'Item Groups',
    [
      [
        '#wg_123',
        '1-2-3 Rule',
        [
          ['#wg_123_1', 'One large task'],
          ['#wg_123_2', 'Two medium tasks'],
          ['#wg_123_3', 'Three small tasks'],
        ],
      ],
      [
        '#wg_ABCDE',
        'ABCDE Method',
        [
          ['#wg_ABCDE_A', 'A - Most important'],
          ['#wg_ABCDE_B', 'B - Important'],
          ['#wg_ABCDE_C', 'C - Nice to do'],
          ['#wg_ABCDE_D', 'D - Delegate'],
          ['#wg_ABCDE_E', 'E - Eliminate'],
        ],
      ],
      [
        '#wg_Eisenhower',
        'Eisenhower Matrix',
        [
          ['#wg_Eisenhower_UI', 'Urgent and Important'],
          ['#wg_Eisenhower_NUI', 'Important but Not Urgent'],
          ['#wg_Eisenhower_UNI', 'Urgent but Not Important'],
          ['#wg_Eisenhower_NUNI', 'Not Urgent and Not Important'],
        ],
      ],
      [
        '#wg_Pareto',
        'Pareto Principle',
        [
          ['#wg_Pareto_20', '20% Effort, 80% Outcomes'],
          ['#wg_Pareto_80', '80% Effort, 20% Outcomes'],
        ],
      ],
      [
        '#wg_MSW',
        'Must, Should, Want',
        [
          ['#wg_MSW_M', 'I must...'],
          ['#wg_MSW_S', 'I should...'],
          ['#wg_MSW_W', 'I want to...'],
        ],
      ],
    ],
  ],
  ['#workitem_shares', 'Workitem Shares', []],
  ['#workitem_integrations', 'Workitem Integrations', []],
  ['#workitem_tags', 'Workitem Tags', []],
  ['#backlog_groups', 'Backlog Groups', []],
  ['#backlog_shares', 'Backlog Shares', []],
  ['#backlog_integrations', 'Backlog Integrations', []],
  ['#backlog_tags', 'Backlog Tags', []],
];
