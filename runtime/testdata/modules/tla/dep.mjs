export const value = 'dep';
