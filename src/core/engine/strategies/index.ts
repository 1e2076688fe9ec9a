import type { StrategyName } from '../records';
import type { StrategyHandler } from './context';
import { createBacklog, deleteBacklog, renameBacklog, reorderBacklog } from './backlog';
import { createCategory, deleteCategory, renameCategory, reorderCategory } from './category';
import {
  addInterruption,
  addPomodoro,
  finishTracking,
  removePomodoro,
  startTimer,
  startWork,
  stopTimerStrategy,
  voidPomodoroStrategy,
} from './pomodoro';
import { createUser, deleteUser, renameUser } from './user';
import {
  completeWorkitem,
  createWorkitem,
  deleteWorkitem,
  moveWorkitem,
  renameWorkitem,
  reorderWorkitem,
  restoreWorkitem,
  updateWorkitemCategories,
} from './workitem';

/** One handler per persisted strategy name: a missing one is a compile error. */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyHandler>> = {
  CreateUser: createUser,
  DeleteUser: deleteUser,
  RenameUser: renameUser,
  CreateBacklog: createBacklog,
  DeleteBacklog: deleteBacklog,
  RenameBacklog: renameBacklog,
  ReorderBacklog: reorderBacklog,
  CreateCategory: createCategory,
  DeleteCategory: deleteCategory,
  RenameCategory: renameCategory,
  ReorderCategory: reorderCategory,
  CreateWorkitem: createWorkitem,
  DeleteWorkitem: deleteWorkitem,
  RenameWorkitem: renameWorkitem,
  CompleteWorkitem: completeWorkitem,
  RestoreWorkitem: restoreWorkitem,
  ReorderWorkitem: reorderWorkitem,
  MoveWorkitem: moveWorkitem,
  UpdateWorkitemCategories: updateWorkitemCategories,
  AddPomodoro: addPomodoro,
  RemovePomodoro: removePomodoro,
  AddInterruption: addInterruption,
  StartTimer: startTimer,
  StopTimer: stopTimerStrategy,
  StartWork: startWork,
  VoidPomodoro: voidPomodoroStrategy,
  FinishTracking: finishTracking,
};
